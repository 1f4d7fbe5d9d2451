"""A crash leaves nothing half-written: the review is killed (os._exit, like a SIGKILL) at points
inside and around the apply and notify transactions, then re-run; the warehouse must equal that of
a clean run, table for table."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from checks import checksums, scalar
from conftest import FIRST_DATE, SECOND_DATE, load_portfolio

from post_loan_review import db
from post_loan_review.failpoints import CRASH_EXIT_CODE

PLR = str(Path(sys.executable).with_name("plr"))
POINTS = ["apply:before", "apply:after_decisions", "apply:after_ledger", "apply:before_commit",
          "apply:after_commit", "notify:before_commit"]


def plr_review(url: str, reports: Path, review_date, failpoint: str | None = None) -> int:
    env = {**os.environ, "PLR_DATABASE_URL": url, "PLR_REPORT_DIR": str(reports)}
    env.pop("PLR_FAILPOINT", None)
    if failpoint:
        env["PLR_FAILPOINT"] = failpoint
    return subprocess.run([PLR, "review", "--date", str(review_date)], env=env, capture_output=True,
                          text=True, timeout=300).returncode


@pytest.fixture(scope="module")
def after_first_night(tmp_path_factory) -> Path:
    """A warehouse file after a clean review of the first night, copied by each test."""
    folder = tmp_path_factory.mktemp("first-night")
    url = f"sqlite:///{folder / 'base.db'}"
    load_portfolio(db.engine(url), accounts=1500)
    assert plr_review(url, folder / "reports", FIRST_DATE) == 0
    db.engine(url).dispose()
    return folder / "base.db"


def second_night(tmp_path: Path, base: Path, name: str, failpoint: str | None):
    path = tmp_path / f"{name}.db"
    shutil.copyfile(base, path)
    url = f"sqlite:///{path}"
    if failpoint:
        assert plr_review(url, tmp_path / "reports", SECOND_DATE, failpoint) == CRASH_EXIT_CODE
    assert plr_review(url, tmp_path / "reports", SECOND_DATE) == 0
    return db.engine(url)


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory, after_first_night):
    return checksums(second_night(tmp_path_factory.mktemp("clean"), after_first_night, "clean", None))


@pytest.mark.parametrize("point", POINTS)
def test_a_crash_then_a_rerun_equals_a_clean_run(tmp_path, after_first_night, clean_run, point):
    engine = second_night(tmp_path, after_first_night, "crashed", point)
    assert checksums(engine) == clean_run
    assert scalar(engine, "select status from review_runs where review_date = :d and run_mode = 'live'",
                  d=SECOND_DATE) == "reported"


def test_a_crash_inside_the_apply_transaction_leaves_the_date_unapplied(tmp_path):
    url = f"sqlite:///{tmp_path / 'half.db'}"
    engine = db.engine(url)
    load_portfolio(engine, accounts=1500)
    assert plr_review(url, tmp_path / "reports", SECOND_DATE, "apply:after_ledger") == CRASH_EXIT_CODE
    for table_name in ("limit_decisions", "limit_ledger", "decision_traces", "notifications"):
        assert scalar(engine, f"select count(*) from {table_name}") == 0, table_name
    assert scalar(engine, "select count(*) from accounts where limit_set_by_review_date is not null") == 0


def test_notices_commit_with_the_changes_they_announce(tmp_path):
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    engine = db.engine(url)
    load_portfolio(engine, accounts=1500)
    assert plr_review(url, tmp_path / "reports", SECOND_DATE, "apply:after_commit") == CRASH_EXIT_CODE
    changes = scalar(engine, "select count(*) from limit_ledger")
    assert changes > 0 and scalar(engine, "select count(*) from notifications") == changes
