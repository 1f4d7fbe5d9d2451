"""The nightly DAG run through Airflow itself (``airflow dags test``) on a small portfolio: two
consecutive dates, then a re-run of the first, checked in the warehouse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from checks import OUTPUT_TABLES, check_night, scalar, table
from conftest import FIRST_DATE, PROJECT_ROOT, SECOND_DATE, load_portfolio

AIRFLOW = str(Path(sys.executable).with_name("airflow"))


def airflow(env, *args, expect_success=True):
    result = subprocess.run([AIRFLOW, *args], env=env, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    if expect_success:
        assert result.returncode == 0, f"airflow {' '.join(args)} failed:\n{output[-4000:]}"
    else:
        assert result.returncode != 0, f"airflow {' '.join(args)} should have failed:\n{output[-4000:]}"
    return output


@pytest.fixture
def airflow_env(tmp_path, warehouse):
    home = tmp_path / "airflow"
    home.mkdir()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
    }
    airflow(env, "db", "migrate")
    return env


def run_dag(env, logical_date: str, conf: dict | None = None) -> str:
    args = ["dags", "test", "post_loan_review", logical_date]
    if conf:
        args += ["--conf", json.dumps(conf)]
    output = airflow(env, *args)
    assert "state=failed" not in output.lower()
    for task_id in ("resolve_review_date", "validate_snapshots", "build_report"):
        assert task_id in output
    return output


def test_the_dag_reviews_two_nights_and_a_rerun_changes_nothing(airflow_env, warehouse):
    load_portfolio(warehouse, accounts=5000)
    # the first night resolves its date from the logical date, the second from the param
    run_dag(airflow_env, FIRST_DATE.isoformat())
    check_night(warehouse, FIRST_DATE)
    run_dag(airflow_env, "2026-11-28T00:00:00+00:00", {"review_date": SECOND_DATE.isoformat()})
    check_night(warehouse, SECOND_DATE)
    assert scalar(warehouse, "select count(*) from review_runs where status = 'reported'") == 2
    for review_date in (FIRST_DATE, SECOND_DATE):
        report = Path(scalar(warehouse, "select report_path from review_runs where review_date = :d", d=review_date))
        assert report.is_file() and (report.parent / "summary.json").is_file()

    snapshot = {name: table(warehouse, name) for name in OUTPUT_TABLES}
    run_dag(airflow_env, FIRST_DATE.isoformat())
    for name, frame in snapshot.items():
        assert table(warehouse, name).equals(frame), f"re-running {FIRST_DATE} changed {name}"


def test_bad_data_fails_the_dag_run_at_once_and_changes_nothing(airflow_env, warehouse):
    load_portfolio(warehouse, accounts=2000, bad_row_rate=0.05)
    before = table(warehouse, "accounts")
    output = airflow(airflow_env, "dags", "test", "post_loan_review", SECOND_DATE.isoformat(), expect_success=False)
    assert "AirflowFailException" in output and "score_in_range" in output  # no retry for bad data
    assert scalar(warehouse, "select count(*) from staged_decisions") == 0
    assert scalar(warehouse, "select count(*) from limit_decisions") == 0
    assert table(warehouse, "accounts").equals(before)
