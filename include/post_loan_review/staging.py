"""The run's staging tables: ``review_inputs`` (extract), ``staged_decisions`` and
``staged_traces`` (reassess). On PostgreSQL ``db.init_db`` makes them UNLOGGED: everything in
them is rebuilt from the snapshots and the ledger by re-running the review, so the server need
not write them to its write-ahead log as well (about 0.6 GB per million accounts;
docs/performance.md has what it saves). The price is that a server crash empties them. Every
table the review keeps (``limit_decisions``, the ledger, the outbox, ``review_runs``) stays
logged, so the stages that read staged rows compare them with the counts an earlier stage
recorded in ``review_runs`` and stop, with what to do, instead of deciding or reporting on an
empty stage.

They hold the runs in flight, not the warehouse's history: each run's extract deletes the
staged rows of the earlier runs that are over (``clear_finished_runs``). Kept, a million accounts
add about 0.6 GB a night to them, and every query of the report scans them."""

from __future__ import annotations

from sqlalchemy import Connection

from post_loan_review import db
from post_loan_review.runs import ReviewRun

STAGING_TABLES = ("review_inputs", "staged_decisions", "staged_traces")  # as sql/staging/ names them


class StagingLostError(RuntimeError):
    """Rows an earlier stage of the run staged are gone (a PostgreSQL crash empties unlogged tables),
    or are not those a later stage judged: retrying the stage cannot bring them back."""


def _lost(stage: str, run: ReviewRun, what: str) -> StagingLostError:
    return StagingLostError(
        f"{stage} {run.review_date} ({run.run_mode}): {what}. PostgreSQL empties the unlogged staging tables "
        f"({', '.join(STAGING_TABLES)}) after a server crash, and the extract of a later date deletes the rows of "
        "a run that had reported; nothing was written. Re-run the review of "
        f"{run.review_date} from extract_snapshots (in Airflow: clear the run's tasks); shards already applied "
        "stay applied and are skipped.")


def _recorded(conn: Connection, run: ReviewRun, column: str) -> int | None:
    row = db.read_frame(conn, "review/review_run", {"review_date": run.review_date, "run_mode": run.run_mode})
    return None if row.empty or row[column].isna().iloc[0] else int(row[column].iloc[0])


def require_staged_inputs(conn: Connection, run: ReviewRun, stage: str, staged: int) -> None:
    """``staged`` review_inputs rows must be the accounts extract_snapshots recorded."""
    extracted = _recorded(conn, run, "accounts_extracted")
    if extracted is not None and staged != extracted:
        raise _lost(stage, run, f"extract_snapshots staged {extracted:,} accounts, review_inputs now holds {staged:,}")


def require_staged_decisions(conn: Connection, run: ReviewRun, stage: str) -> None:
    """The decisions check_portfolio counted must still be staged."""
    reviewed = _recorded(conn, run, "accounts_reviewed")
    if reviewed and not int(db.read_frame(conn, "staging/staged_decision_present", {
            "review_date": run.review_date, "run_mode": run.run_mode})["staged"].iloc[0]):
        raise _lost(stage, run, f"check_portfolio counted {reviewed:,} staged decisions and none is left")


def require_counted_decisions(conn: Connection, run: ReviewRun, stage: str, shard_count: int) -> None:
    """The decisions the ``shard_count`` reassessment shards counted (``shard_counts``) must be
    those check_portfolio judged: not a split that was decided since, or shards decided by a
    version that did not count."""
    reviewed = _recorded(conn, run, "accounts_reviewed")
    counted = int(db.read_frame(conn, "report/decision_counts", {
        "review_date": run.review_date, "run_mode": run.run_mode, "shard_count": shard_count})["accounts"].sum())
    if reviewed is not None and counted != reviewed:
        raise StagingLostError(
            f"{stage} {run.review_date} ({run.run_mode}): check_portfolio judged {reviewed:,} decisions but the "
            f"counts of the {shard_count} reassessment shard(s) hold {counted:,}; nothing was written. Re-run the "
            f"review of {run.review_date} from reassess_accounts with {shard_count} shard(s).")


def clear_finished_runs(conn: Connection, run: ReviewRun) -> str:
    """Delete the staged rows of the runs of earlier dates that are over (reported, or not applied
    after a rejected approval) and of past simulations. Runs in flight, failed or awaiting
    approval keep theirs. On PostgreSQL, when no recorded run needs its rows kept and no other
    transaction is using the tables, empty them with TRUNCATE instead: deleted rows stay in the
    tables until autovacuum reclaims them, and until then every scan of the night steps over
    them. How it cleared, for the task's result: ``"truncated"``, or ``"deleted"`` with the runs
    kept."""
    params = {"review_date": run.review_date}
    kept = db.read_frame(conn, "staging/runs_keeping_staging", params)
    if db.is_postgres(conn) and kept.empty and _lock_alone(conn):
        # again under the lock: a run that staged rows and recorded itself after the first look
        # has committed by now (its writes hold a lock that conflicts with ours)
        kept = db.read_frame(conn, "staging/runs_keeping_staging", params)
        if kept.empty:
            db.execute(conn, "staging/truncate_staging")
            return "truncated"
    db.execute_script(conn, "staging/clear_finished_runs", params)
    runs = ", ".join(f"{str(day)[:10]} {mode} ({status})" for day, mode, status in kept.head(5).itertuples(index=False))
    return f"deleted; kept {len(kept)} run(s): {runs}" if len(kept) else "deleted"


def _lock_alone(conn: Connection) -> bool:
    """Take the staging tables for this transaction alone, if no other transaction is using
    them (another run in flight); never wait for one."""
    return db.unless_refused(conn, db.LOCK_NOT_AVAILABLE,
                             lambda: db.execute(conn, "staging/lock_staging_nowait")) is not None
