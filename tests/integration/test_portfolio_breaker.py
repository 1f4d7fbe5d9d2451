"""A portfolio breaker asks a person: a feed where every score drops 30 points shifts the score
distribution past the policy's PSI guard; the run stops before apply and applies nothing until a
person approves."""

from __future__ import annotations

import pytest
from checks import OUTPUT_TABLES, scalar, table
from conftest import SECOND_DATE, load_portfolio
from sqlalchemy import text

from post_loan_review import stages
from post_loan_review.portfolio import PortfolioBreakerTripped


def every_score_drops_30_points(engine):
    with engine.begin() as conn:
        conn.execute(text("update credit_score_snapshots set score = case when score - 30 < 350 then 350 "
                          "else score - 30 end where snapshot_date = :d"), {"d": SECOND_DATE.isoformat()})


def test_a_shifted_score_distribution_stops_the_run_before_anything_is_applied(warehouse):
    load_portfolio(warehouse, accounts=4000, bad_row_rate=0)
    every_score_drops_30_points(warehouse)
    before = {name: table(warehouse, name) for name in OUTPUT_TABLES}
    with pytest.raises(PortfolioBreakerTripped, match=r"score PSI 0\.\d+ against 2026-11-26 \(guard 0\.1\)"):
        stages.review(SECOND_DATE)
    for name, frame in before.items():
        assert table(warehouse, name).equals(frame), f"{name} changed while the breaker held the run"
    assert scalar(warehouse, "select status from review_runs") == "awaiting_approval"
    assert "score PSI" in scalar(warehouse, "select error_message from review_runs")


def test_an_approved_run_applies_and_a_dry_run_never_waits(warehouse):
    load_portfolio(warehouse, accounts=4000, bad_row_rate=0)
    every_score_drops_30_points(warehouse)
    dry = stages.review(SECOND_DATE, dry_run=True)  # nothing to apply, nothing to approve
    assert dry["accounts_reviewed"] > 0
    summary = stages.review(SECOND_DATE, approved=True)
    assert scalar(warehouse, "select count(*) from limit_ledger") == summary["changes"] > 0
    assert scalar(warehouse, "select status from review_runs where run_mode = 'live'") == "reported"


def test_a_rejected_run_reports_that_nothing_was_applied(warehouse):
    load_portfolio(warehouse, accounts=4000, bad_row_rate=0)
    every_score_drops_30_points(warehouse)
    with pytest.raises(PortfolioBreakerTripped):
        stages.review(SECOND_DATE)
    run_xcom = stages.resolve_review_date(SECOND_DATE, False, None)
    summary = stages.build_report(run_xcom)  # what the DAG does after a reject or a timeout
    assert "NOT APPLIED" in open(summary["report_path"], encoding="utf-8").read()
    assert scalar(warehouse, "select status from review_runs where run_mode = 'live'") == "not_applied"
    assert scalar(warehouse, "select count(*) from limit_ledger") == 0


def test_a_normal_night_passes_the_breaker(warehouse):
    load_portfolio(warehouse, accounts=4000)
    stages.review(SECOND_DATE)  # no approval needed
    guard = stages.check_portfolio(stages.resolve_review_date(SECOND_DATE, False, None))
    assert guard["breached"] is False and guard["reasons"] == []
    assert 0 < guard["lowering_share_pct"] < 10 and guard["score_psi"] < 0.1
