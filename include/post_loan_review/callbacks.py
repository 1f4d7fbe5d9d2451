"""Airflow callbacks of the DAGs, kept in a module that imports nothing heavy: DAG files import it
at parse time. The work happens in ``alerts``, imported only when a callback fires."""

from __future__ import annotations

from datetime import date
from typing import Any


def task_failed(context: dict[str, Any]) -> None:
    """on_failure_callback: record the failed attempt once and alert (never raises)."""
    from post_loan_review import alerts

    ti = context["ti"]
    review_date = (context.get("params") or {}).get("review_date")
    alerts.record_failure(ti.dag_id, ti.run_id, ti.task_id, ti.try_number, str(context.get("exception")),
                          review_date=date.fromisoformat(review_date) if review_date else None)


def run_failed(context: dict[str, Any]) -> None:
    """The DAG's on_failure_callback: the run failed as a whole, e.g. it ran past its dagrun_timeout."""
    from post_loan_review import alerts

    run = context.get("dag_run")
    alerts.record_failure(getattr(run, "dag_id", "post_loan_review"), getattr(run, "run_id", "unknown"),
                          "dag_run", 0, str(context.get("reason") or "the run failed or ran out of time"))
