"""The identity of one review run and its row in ``review_runs``."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection

from post_loan_review import db

RUN_MODES = ("live", "dry_run", "simulation")  # simulation: staging only, never applied


@dataclass(frozen=True)
class ReviewRun:
    """One review date, one mode, one policy: every write of a run is keyed by these."""

    review_date: date
    run_mode: str
    policy_version: str

    def __post_init__(self):
        if self.run_mode not in RUN_MODES:
            raise ValueError(f"run_mode must be one of {RUN_MODES}, not {self.run_mode!r}")

    @property
    def is_live(self) -> bool:
        return self.run_mode == "live"

    def to_xcom(self) -> dict[str, str]:
        """A small JSON-able form that tasks pass to each other."""
        return {**asdict(self), "review_date": self.review_date.isoformat()}

    @classmethod
    def from_xcom(cls, value: dict[str, Any]) -> "ReviewRun":
        return cls(date.fromisoformat(value["review_date"]), value["run_mode"], value["policy_version"])


def record(conn: Connection, run: ReviewRun, status: str, keep_failed: bool = False, **counts: Any) -> None:
    """Upsert the run's row with its latest status; counts not given keep their value.
    ``keep_failed``: for a task that runs beside others of the same step (extract beside the
    validation shards, an apply shard beside the others): committing after a sibling failed must
    not hide that failure. The next stage that judges the whole run sets the status again."""
    columns = ("accounts_extracted", "accounts_reviewed", "rows_quarantined", "changes_applied",
               "notifications_queued", "report_path", "error_message")
    unknown = set(counts) - set(columns)
    if unknown:
        raise ValueError(f"unknown review_runs column(s): {sorted(unknown)}")
    params = {"review_date": run.review_date, "run_mode": run.run_mode,
              "policy_version": run.policy_version, "status": status, "keep_failed": keep_failed,
              **{c: counts.get(c) for c in columns},
              **{f"keep_{c}": c not in counts for c in columns}}
    db.execute(conn, "review/record_review_run", params)


class StaleAttemptError(RuntimeError):
    """A newer attempt of the same stage took over: this attempt's writes are refused."""


def claim_attempt(conn: Connection, run: ReviewRun, stage: str, attempt_id: str) -> None:
    """Make ``attempt_id`` the one attempt of ``stage`` that may commit (in its own transaction)."""
    db.execute(conn, "review/claim_stage_attempt", {"review_date": run.review_date, "run_mode": run.run_mode,
                                                    "stage": stage, "attempt_id": attempt_id})


def confirm_attempt(conn: Connection, run: ReviewRun, stage: str, attempt_id: str) -> None:
    """Inside the stage's transaction, before commit: raise if another attempt took over."""
    confirmed = db.execute(conn, "review/confirm_stage_attempt", {
        "review_date": run.review_date, "run_mode": run.run_mode, "stage": stage, "attempt_id": attempt_id})
    if confirmed != 1:
        raise StaleAttemptError(f"{stage} {run.review_date} ({run.run_mode}): attempt {attempt_id} was "
                                "overtaken by a newer attempt; its writes are rolled back")
