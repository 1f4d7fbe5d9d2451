"""Failures are seen: a failed task or a missed deadline is recorded once in ``run_failures`` and,
when ``PLR_ALERT_WEBHOOK_URL`` is set, posted to that webhook (a chat room, an on-call tool).

Called from Airflow callbacks, so nothing here may raise: a broken alert channel is logged, never
allowed to hide the failure it was reporting."""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from datetime import date
from typing import Any

from post_loan_review import db

log = logging.getLogger(__name__)


def record_failure(dag_id: str, run_id: str, task_id: str, try_number: int, error: str,
                   review_date: date | None = None) -> bool:
    """Record a failure once and alert on its first recording; whether it was new."""
    try:
        with db.engine().begin() as conn:
            db.init_db(conn)
            new = db.execute(conn, "alerts/record_failure", {
                "dag_id": dag_id, "run_id": run_id, "task_id": task_id, "try_number": int(try_number),
                "review_date": review_date, "error": str(error)[:4000]}) == 1
    except Exception:  # the warehouse itself may be what failed
        log.exception("could not record the failure of %s/%s/%s", dag_id, run_id, task_id)
        new = True
    if new:
        send_alert({"dag_id": dag_id, "run_id": run_id, "task_id": task_id, "try_number": int(try_number),
                    "review_date": review_date.isoformat() if review_date else None, "error": str(error)[:4000]})
    return new


def send_alert(payload: dict[str, Any]) -> None:
    """POST the alert to ``PLR_ALERT_WEBHOOK_URL`` if set; log it either way."""
    log.error("post-loan-review failure: %s", payload)
    url = os.environ.get("PLR_ALERT_WEBHOOK_URL")
    if not url:
        return
    request = urllib.request.Request(url, data=json.dumps(payload).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10):
            pass
    except Exception:
        log.exception("could not post the alert to %s", url)
