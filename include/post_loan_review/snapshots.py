"""extract_snapshots: stage the snapshots of a review date, and everything else the policy needs
about each account as of that date, into ``review_inputs`` with one set-based statement."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection

from post_loan_review import db
from post_loan_review.policy import Policy
from post_loan_review.runs import ReviewRun
from post_loan_review.score_baselines import stage_score_baselines


def previous_snapshot_date(conn: Connection, review_date: date) -> date | None:
    """The latest score snapshot date before ``review_date``: the comparison point for drops."""
    return db.read_date(conn, "review/latest_snapshot_date_before", {"review_date": review_date})


def extract_snapshots(conn: Connection, run: ReviewRun, policy: Policy) -> dict[str, Any]:
    """Replace the run's staged inputs; the number of accounts staged and the comparison date."""
    previous = previous_snapshot_date(conn, run.review_date)
    params = {
        "review_date": run.review_date,
        "run_mode": run.run_mode,
        "previous_snapshot_date": previous,
        "baseline_days": policy.score_baseline_days,
        "security_window_start": run.review_date - timedelta(days=policy.security_window_days),
        "income_window_start": run.review_date - timedelta(days=policy.income_window_days),
    }
    db.execute(conn, "review/clear_review_inputs", params)
    baselines = stage_score_baselines(conn, run.review_date, policy.score_baseline_days)
    if db.is_postgres(conn):
        db.execute(conn, "review/plan_extract_joins")
    staged = db.execute(conn, "review/extract_review_inputs", params)
    db.refresh_statistics(conn, "review_inputs")  # the shards' reads plan on the new rows
    return {"accounts_extracted": staged,
            "previous_snapshot_date": previous.isoformat() if previous else None,
            "score_baselines": baselines}
