"""The stages of the nightly review, named after the DAG's tasks. Each opens one transaction on
the warehouse, does its set-based work, records its progress in ``review_runs`` and returns a
small dict (dates, counts, paths) that is safe to pass through XCom.

A failing stage rolls back its own writes and marks the run failed, so the warehouse is left as it
was and re-running the date is safe."""

from __future__ import annotations

import contextlib
import time
import uuid
from datetime import date, datetime
from typing import Any, Iterator

from sqlalchemy import Connection

from post_loan_review import db, ledger, notifications, portfolio, quality, reassess, reports, runs, snapshots, staging
from post_loan_review.config import settings
from post_loan_review.dates import resolve_review_date as _resolve_date
from post_loan_review.failpoints import failpoint
from post_loan_review.policy import load_policy
from post_loan_review.runs import ReviewRun
from post_loan_review.shards import Shard, check_shard_count


@contextlib.contextmanager
def _stage(run: ReviewRun, name: str, attempt: str | None) -> Iterator[Connection]:
    """One transaction for the stage, committed only while this attempt still owns the stage
    (a newer attempt's claim makes it stale); on error, roll back and mark the run failed."""
    engine = db.engine()
    attempt = attempt or f"local/{uuid.uuid4()}"
    with engine.begin() as conn:
        runs.claim_attempt(conn, run, name, attempt)
    try:
        with engine.begin() as conn:
            yield conn
            runs.confirm_attempt(conn, run, name, attempt)
        db.merge_write_ahead_log(engine)
    except runs.StaleAttemptError:
        raise  # the newer attempt owns the run's status
    except Exception as error:
        with engine.begin() as conn:
            runs.record(conn, run, "failed", error_message=f"{name}: {error}"[:2000])
        raise


def resolve_review_date(review_date: str | date | None, dry_run: bool, policy_version: str | None,
                        data_interval_end: datetime | None = None,
                        logical_date: datetime | None = None, shard_count: int | None = None) -> dict[str, Any]:
    """The run's identity, resolved once and checked: the date, the mode, a policy that loads,
    and the shards the heavy stages split the book into (``shards``: the indices to map over)."""
    shard_count = check_shard_count(shard_count or settings().shards)
    policy = load_policy(policy_version or settings().policy_version)
    if policy.challenger is not None:  # a broken challenger stops the run here, not half-way
        load_policy(policy.challenger.policy)
    run = ReviewRun(_resolve_date(review_date, data_interval_end, logical_date),
                    "dry_run" if dry_run else "live", policy.version)
    with db.engine().begin() as conn:
        db.init_db(conn)
    return {**run.to_xcom(), "shard_count": shard_count, "shards": list(range(shard_count))}


def _shard_count(run_xcom: dict) -> int:
    """The shards the run's heavy stages split the book into (one for a run from before shards)."""
    return int(run_xcom.get("shard_count", 1))


def _shard(run_xcom: dict, index: int) -> Shard:
    return Shard(int(index), _shard_count(run_xcom))


def extract_snapshots(run_xcom: dict, attempt: str | None = None) -> dict[str, Any]:
    run = ReviewRun.from_xcom(run_xcom)
    with _stage(run, "extract_snapshots", attempt) as conn:
        cleared = staging.clear_finished_runs(conn, run)  # the staging tables keep the runs in flight only
        result = {**snapshots.extract_snapshots(conn, run, load_policy(run.policy_version)), "staging": cleared}
        if result["accounts_extracted"] == 0:
            raise ValueError(f"extract_snapshots {run.review_date}: no reviewable account in accounts; "
                             "load a portfolio first (plr generate)")
        runs.record(conn, run, "extracted", keep_failed=True, accounts_extracted=result["accounts_extracted"])
    return result


def validate_snapshots(run_xcom: dict, shard_index: int = 0, attempt: str | None = None) -> dict[str, Any]:
    """One shard of the quality gate: its expectation results and quarantined rows."""
    run, shard = ReviewRun.from_xcom(run_xcom), _shard(run_xcom, shard_index)
    with _stage(run, f"validate_snapshots[{shard.label}]", attempt) as conn:
        result = quality.validate_shard(conn, run, shard)
        failpoint(f"validate:shard{shard.index}")
    return result


def quality_gate(run_xcom: dict, previous_snapshot_date: str | None, attempt: str | None = None) -> dict[str, Any]:
    """The verdict on the whole book from every shard's results; stops the run on a failure."""
    run = ReviewRun.from_xcom(run_xcom)
    previous = date.fromisoformat(previous_snapshot_date) if previous_snapshot_date else None
    with _stage(run, "quality_gate", attempt) as conn:
        result = quality.quality_gate(conn, run, previous, _shard_count(run_xcom))
        runs.record(conn, run, "failed" if result["failure"] else "validated",
                    rows_quarantined=result["rows_quarantined"], error_message=result["failure"])
    # the results are committed above so operators can read them; now stop before any decision
    if result["failure"]:
        raise quality.QualityGateError(result["failure"], retryable=result["retryable"])
    return result


def reassess_accounts(run_xcom: dict, shard_index: int = 0, attempt: str | None = None) -> dict[str, Any]:
    """Decisions and traces for one shard's accounts."""
    run, shard = ReviewRun.from_xcom(run_xcom), _shard(run_xcom, shard_index)
    with _stage(run, f"reassess_accounts[{shard.label}]", attempt) as conn:
        result = reassess.reassess_accounts(conn, run, load_policy(run.policy_version), shard)
        failpoint(f"reassess:shard{shard.index}")
    return result


def check_portfolio(run_xcom: dict, attempt: str | None = None) -> dict[str, Any]:
    """The breaker's figures over every shard's decisions; a breached live run is recorded as
    awaiting approval."""
    run = ReviewRun.from_xcom(run_xcom)
    with _stage(run, "check_portfolio", attempt) as conn:
        # every shard has written its decisions: from here on, queries plan on their real size
        db.refresh_statistics(conn, "staged_decisions", "staged_traces")
        result = portfolio.check_portfolio(conn, run, load_policy(run.policy_version), _shard_count(run_xcom))
        params = {"review_date": run.review_date, "run_mode": run.run_mode}
        staged = int(db.read_frame(conn, "review/staged_input_count", params)["accounts_staged"].iloc[0])
        staging.require_staged_inputs(conn, run, "check_portfolio", staged)
        if result["accounts_reviewed"] != staged:  # a shard never reassessed, or one from another split
            raise RuntimeError(f"check_portfolio {run.review_date}: {staged} accounts were staged but "
                               f"{result['accounts_reviewed']} decided; re-run every reassess_accounts shard")
        runs.record(conn, run, "reassessed", accounts_reviewed=result["accounts_reviewed"])
        if result["breached"] and run.is_live:
            runs.record(conn, run, "awaiting_approval", error_message="; ".join(result["reasons"]))
    return result


def _totals(conn: Connection, run: ReviewRun) -> dict[str, int]:
    frame = db.read_frame(conn, "apply/count_changes", {"review_date": run.review_date})
    return {column: int(frame.iloc[0][column]) for column in frame.columns}


def apply_limit_changes(run_xcom: dict, shard_index: int = 0, attempt: str | None = None) -> dict[str, Any]:
    """One shard's decisions, ledger rows, new limits and notices, in one transaction: a failed
    shard retries alone, and the shards that committed stay applied (a re-run skips them)."""
    run, shard = ReviewRun.from_xcom(run_xcom), _shard(run_xcom, shard_index)
    if not run.is_live:
        return {"dry_run": True, "changes_applied": 0}
    name = f"apply_limit_changes[{shard.label}]"
    with _stage(run, name, attempt) as conn:
        staging.require_staged_decisions(conn, run, name)
        result, changes = ledger.apply_limit_changes(conn, run, shard)
        # the outbox rows commit in the same transaction as the changes they announce
        result["notifications_queued"] = notifications.queue_notifications(
            conn, run, load_policy(run.policy_version), shard, changes)
        # the totals: queue_notifications, once every shard committed
        runs.record(conn, run, "applied", keep_failed=True)
    failpoint("apply:after_commit")  # committed, but the task never reported success
    return {"shard": shard.label, **result}


def queue_notifications(run_xcom: dict, attempt: str | None = None) -> dict[str, Any]:
    run = ReviewRun.from_xcom(run_xcom)
    if not run.is_live:
        return {"dry_run": True, "notifications_queued": 0}
    with _stage(run, "queue_notifications", attempt) as conn:
        # every shard's apply committed its notices with its changes; when the date's counts say
        # that some change is still without one (a warehouse applied by an older version), this
        # finds and queues it; then it announces the outbox
        totals, queued = _totals(conn, run), 0
        if totals["notifications_queued"] < totals["changes_applied"]:
            queued = notifications.queue_notifications(conn, run, load_policy(run.policy_version))
            totals = _totals(conn, run)
        failpoint("notify:before_commit")
        runs.record(conn, run, "notified", changes_applied=totals["changes_applied"],
                    notifications_queued=totals["notifications_queued"])
    return {"notifications_queued": queued}


def build_report(run_xcom: dict, attempt: str | None = None) -> dict[str, Any]:
    run, shard_count = ReviewRun.from_xcom(run_xcom), _shard_count(run_xcom)
    with _stage(run, "build_report", attempt) as conn:
        staging.require_staged_decisions(conn, run, "build_report")
        staging.require_counted_decisions(conn, run, "build_report", shard_count)
        recorded = db.read_frame(conn, "review/review_run", {"review_date": run.review_date, "run_mode": run.run_mode})
        # still awaiting approval at report time: the approval was rejected or timed out
        waiting = len(recorded) and recorded["status"].iloc[0] == "awaiting_approval"
        not_applied = str(recorded["error_message"].iloc[0]) if waiting else None
        summary = reports.build_report(conn, run, settings().report_dir, not_applied, shard_count)
        runs.record(conn, run, "not_applied" if waiting else "reported", report_path=summary["report_path"])
    return summary


def review(review_date: str | date, dry_run: bool = False, policy_version: str | None = None,
           approved: bool = False, shard_count: int | None = None, report: bool = True) -> dict[str, Any]:
    """The whole nightly review in-process, stage after stage and shard after shard, as the DAG
    runs it (where the shards of a stage run side by side). ``report=False`` (a backtest's
    replayed months) stops after the notices: no nightly report is built. A tripped
    portfolio breaker stops a live run before apply (``PortfolioBreakerTripped``) unless a person
    ``approved`` it. The answer is the report's summary plus ``stage_seconds``."""
    seconds: dict[str, float] = {}

    def timed(stage, *args):
        started = time.perf_counter()
        result = stage(*args)
        seconds[stage.__name__] = round(seconds.get(stage.__name__, 0) + time.perf_counter() - started, 2)
        return result

    run_xcom = timed(resolve_review_date, review_date, dry_run, policy_version, None, None, shard_count)
    extracted = timed(extract_snapshots, run_xcom)
    for index in run_xcom["shards"]:
        timed(validate_snapshots, run_xcom, index)
    timed(quality_gate, run_xcom, extracted["previous_snapshot_date"])
    for index in run_xcom["shards"]:
        timed(reassess_accounts, run_xcom, index)
    guard = timed(check_portfolio, run_xcom)
    if guard["breached"] and not dry_run and not approved:
        raise portfolio.PortfolioBreakerTripped(
            f"review {review_date}: the portfolio breaker tripped ({'; '.join(guard['reasons'])}); nothing was "
            "applied. Look at the dry-run figures, then re-run with approval (plr review --approve) or not at all.")
    for index in run_xcom["shards"]:
        timed(apply_limit_changes, run_xcom, index)
    timed(queue_notifications, run_xcom)
    if not report:
        return {"review_date": run_xcom["review_date"], "accounts_reviewed": guard["accounts_reviewed"],
                "breaker_reasons": guard["reasons"], "stage_seconds": seconds}
    summary = timed(build_report, run_xcom)
    return {**summary, "stage_seconds": seconds}
