"""The score baseline's sums (``score_baselines``): each account's valid scores over the policy's
baseline window before the review date, for the extract's ``baseline_score_90d``.

Score snapshots arrive every night, so a 90-day window holds 90 dates of the whole book. Summed
from scratch, that read grew with the warehouse until the window was full: at 1,000,000 accounts
and 90 nights of scores the extract took 44 s, and takes 12 s carried (docs/performance.md). Each
night carries the sums of an earlier night of the same window length forward: it adds the
snapshot dates that entered the window since and takes out those that left it, two dates on a
nightly schedule. It sums from scratch only when no night within the window is kept (the first
night, after a gap, a backfill further back than ``NIGHTS_KEPT``, a policy with a new window
length, or after a crash of PostgreSQL, where the tables are unlogged).

The sums are only as right as the snapshots they were made from: a loader that rewrites an
earlier date's scores must drop the sums of the nights after it, as ``plr import`` does
(``sql/import/clear_credit_score_snapshots.sql``).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Connection

from post_loan_review import db

NIGHTS_KEPT = 3  # a backfill of the last nights carries one; each kept night is read whole


def stage_score_baselines(conn: Connection, review_date: date, baseline_days: int) -> str:
    """Make sure the sums of ``review_date`` for a window of ``baseline_days`` are stored, inside
    the caller's transaction; how they were made, for the extract's result."""
    baseline_start = review_date - timedelta(days=baseline_days)
    params = {"review_date": review_date, "baseline_days": baseline_days, "baseline_start": baseline_start}
    if not db.execute(conn, "review/claim_score_baseline_night", params):
        if not _locked(conn, review_date, baseline_days):
            raise RuntimeError(f"extract {review_date}: the score baselines of the night were pruned while it "
                               "read them; retry the task")
        return "stored by an earlier run"
    carried_date = db.read_date(conn, "review/score_baseline_carried_night", params)
    if carried_date and not _locked(conn, carried_date, baseline_days):
        carried_date = None  # pruned by another run since it was looked up
    db.execute(conn, "review/sum_score_baselines", {
        **params, "carried_date": carried_date,
        "added_from": carried_date or baseline_start,
        "dropped_from": carried_date - timedelta(days=baseline_days) if carried_date else baseline_start})
    db.execute_script(conn, "review/prune_score_baselines", {"kept_from": review_date - timedelta(days=NIGHTS_KEPT)})
    return f"carried from {carried_date}" if carried_date else "summed from scratch"


def _locked(conn: Connection, night: date, baseline_days: int) -> bool:
    """On PostgreSQL, hold a stored night against pruning by another run until the transaction
    ends; whether it is still there."""
    if not db.is_postgres(conn):
        return True  # the extract's transaction holds SQLite's only write lock
    return db.read_date(conn, "review/lock_score_baseline_night",
                        {"locked_date": night, "baseline_days": baseline_days}) is not None
