"""extract_snapshots: stage the snapshots of a review date, and everything else the policy needs
about each account as of that date, into ``review_inputs``, with one set-based statement per range
of consecutive account ids.

``plan_extract`` runs once per run: it sums the night's score baselines, picks the comparison
date, and splits the book into ranges of about as many accounts each
(``extract_account_ranges``: account ids stay in the warehouse, out of XCom and logs).
``extract_part`` stages one range, so the ranges run as parallel tasks (each an index range scan
of every input table, no table read twice) and a failed one retries alone.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection

from post_loan_review import db
from post_loan_review.policy import Policy
from post_loan_review.runs import ReviewRun
from post_loan_review.score_baselines import hold_night, stage_score_baselines
from post_loan_review.staging import StagingLostError

SMALLEST_ID, LARGEST_ID = -2**63, 2**63 - 1  # the range of a 64-bit account id, on every database


def previous_snapshot_date(conn: Connection, review_date: date) -> date | None:
    """The latest score snapshot date before ``review_date``: the comparison point for drops."""
    return db.read_date(conn, "review/latest_snapshot_date_before", {"review_date": review_date})


def plan_extract(conn: Connection, run: ReviewRun, policy: Policy, part_count: int) -> dict[str, Any]:
    """Stage the night's score baselines (``extract_part`` reads them) and the book's ranges of
    account ids; the comparison date and the part count, the same for every part of the run."""
    previous = previous_snapshot_date(conn, run.review_date)
    baselines = stage_score_baselines(conn, run.review_date, policy.score_baseline_days)
    params = {"review_date": run.review_date, "run_mode": run.run_mode, "part_count": part_count,
              "smallest_id": SMALLEST_ID, "largest_id": LARGEST_ID}
    db.execute(conn, "review/clear_extract_account_ranges", params)
    db.execute(conn, "review/draw_extract_account_ranges", params)
    return {"previous_snapshot_date": previous.isoformat() if previous else None,
            "score_baselines": baselines, "part_count": part_count}


def extract_part(conn: Connection, run: ReviewRun, policy: Policy, plan: dict[str, Any], part: int) -> int:
    """Replace the run's staged inputs of the plan's range ``part``; the accounts staged."""
    run_params = {"review_date": run.review_date, "run_mode": run.run_mode}
    account_range = db.read_frame(conn, "review/extract_account_range",
                                  {**run_params, "part_count": plan["part_count"], "part": part})
    if account_range.empty:
        return 0  # the book has fewer accounts than parts
    if not hold_night(conn, run.review_date, policy.score_baseline_days):
        raise StagingLostError(
            f"extract_snapshots {run.review_date} ({run.run_mode}): the score baselines plan_extract summed for the "
            "night are gone (emptied by a crash of PostgreSQL, or pruned by the run of a night three or more "
            f"later); nothing was written. Re-run the review of {run.review_date} from plan_extract (in Airflow: "
            "clear the run's tasks).")
    previous = plan["previous_snapshot_date"]
    params = {
        **run_params,
        "first_account_id": int(account_range["first_account_id"].iloc[0]),
        "last_account_id": int(account_range["last_account_id"].iloc[0]),
        "previous_snapshot_date": date.fromisoformat(previous) if previous else None,
        "baseline_days": policy.score_baseline_days,
        "security_window_start": run.review_date - timedelta(days=policy.security_window_days),
        "income_window_start": run.review_date - timedelta(days=policy.income_window_days),
    }
    db.execute(conn, "review/clear_review_inputs", params)
    if db.is_postgres(conn):
        db.execute(conn, "review/plan_extract_joins")
    return db.execute(conn, "review/extract_review_inputs", params)


def extract_snapshots(conn: Connection, run: ReviewRun, policy: Policy) -> dict[str, Any]:
    """The whole book in the caller's transaction, as one range: the accounts staged and the
    plan."""
    plan = plan_extract(conn, run, policy, part_count=1)
    staged = extract_part(conn, run, policy, plan, 0)
    db.refresh_statistics(conn, "review_inputs")
    return {"accounts_extracted": staged, **plan}
