"""apply_limit_changes: one shard's live decisions, the append-only ``limit_ledger`` and the new
current limits, in the caller's one transaction. Every statement skips what a previous run of the
same date already wrote, so a re-run is a no-op."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection

from post_loan_review import db
from post_loan_review.failpoints import failpoint
from post_loan_review.runs import ReviewRun
from post_loan_review.shards import WHOLE_BOOK, Shard

# what apply_limit_changes returns for a shard's notices: one row per change it appended
CHANGE_COLUMNS = ["account_id", "review_date", "action", "old_limit_fen", "new_limit_fen",
                  "reason_1", "reason_2", "reason_3", "reason_4", "language"]


def apply_limit_changes(conn: Connection, run: ReviewRun,
                        shard: Shard = WHOLE_BOOK) -> tuple[dict[str, int], pd.DataFrame | None]:
    """The shard's counts, and on PostgreSQL the changes it appended (for their notices; None on
    SQLite, where the notices read them back from the ledger)."""
    if not run.is_live:
        raise ValueError("a dry run applies nothing; apply_limit_changes needs a live run")
    params = {"review_date": run.review_date, **shard.params()}
    if db.is_postgres(conn):
        db.execute_script(conn, "apply/plan_self_inserts")
    failpoint("apply:before")
    if db.is_postgres(conn):
        counts, changes = _apply_in_one_statement(conn, params)
    else:
        counts, changes = _apply_step_by_step(conn, params), None
    failpoint("apply:before_commit")
    return counts, changes


def _apply_in_one_statement(conn: Connection, params: dict) -> tuple[dict[str, int], pd.DataFrame]:
    """PostgreSQL: decisions, ledger and limits in one statement whose steps read what the step
    before wrote, so no shard waits for another's commit at an ANALYZE. First as a plain insert,
    which is what every first attempt of a shard needs; where a decision of the shard was
    recorded before (a re-run, a retry after a commit, another split of the book), its primary
    key refuses the insert, and the statement runs again looking each decision up."""
    applied = db.unless_refused(conn, db.UNIQUE_VIOLATION, lambda: db.execute_returning(
        conn, "apply/apply_shard_postgres", {**params, "look_up_recorded": False}))
    if applied is None:  # a decision of the shard is recorded already
        applied = db.execute_returning(conn, "apply/apply_shard_postgres", {**params, "look_up_recorded": True})
    failpoint("apply:after_decisions")
    failpoint("apply:after_ledger")
    changes = applied.loc[applied["account_id"].notna(), CHANGE_COLUMNS].reset_index(drop=True)
    changes["review_date"] = pd.to_datetime(changes["review_date"])
    first = applied.iloc[0]
    counts = {"decisions_recorded": int(first["decisions_recorded"]), "traces_recorded": int(first["traces_recorded"]),
              "changes_applied": len(changes), "limits_updated": int(first["limits_updated"])}
    return counts, changes


def _apply_step_by_step(conn: Connection, params: dict) -> dict[str, int]:
    """SQLite: one statement per table, each reading the table the one before it filled."""
    traces = db.execute(conn, "apply/insert_decision_traces", params)  # before the decisions it keys on
    decisions = db.execute(conn, "apply/insert_limit_decisions", params)
    failpoint("apply:after_decisions")
    changes = db.execute(conn, "apply/insert_limit_ledger", params)
    failpoint("apply:after_ledger")
    limits = db.execute(conn, "apply/update_current_limits", params)
    return {"decisions_recorded": decisions, "traces_recorded": traces, "changes_applied": changes,
            "limits_updated": limits}
