"""
# Notification dispatch (通知发送): the outbox, delivered at least once

Delivers the customer notices that `post_loan_review` queued in the `notifications` outbox. It runs
whenever `queue_notifications` updates the outbox asset `plr://warehouse/notifications`, and can be
triggered by hand at any time (e.g. after fixing a receiver, to flush the retries).

| task | what it does |
|---|---|
| `dispatch` | batch after batch (500 rows): claim the due `queued` rows, send each, then acknowledge the batch in one transaction: `sent` with `sent_at`, or one more `attempts` with `last_error` and an exponential backoff (1 min × 2^attempts); `dead_letter` after 5 failed attempts. Stops when nothing is due or after its time budget (20 min). |

**At least once, deduplicated by key**: a row is marked sent only after the sender returned, so a
worker killed between sending and acknowledging sends those notices again on the next try. Every
delivery carries `notification_key` (`<review_date>:<account_id>:<channel>`) for the receiver to
deduplicate: the file name (file sink), the `Idempotency-Key` header (webhook), the Message-ID (SMTP).

**Sender**: the worker's `PLR_NOTIFY_SENDER`: `file` (default; JSON files in `PLR_NOTIFY_DIR`,
default `.local/outbox`), `webhook` (connection `plr_notify_webhook`: URL in host, extra `headers`,
`timeout`, password as bearer token) or `smtp` (connection `plr_notify_smtp`: host, port, login,
password, extra `from_addr`, `to_addr_template`).

**Retries**: when notices are still queued at the end (failed ones waiting for their backoff, or
the time budget ran out) the task fails, and Airflow retries it (3 times, exponential backoff), which
is what delivers the retries; dead letters do not fail it (they are final: see `last_error`).
More: docs/reliability.md.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, dag, task

from post_loan_review.assets import NOTIFICATIONS_ASSET_URI

TIME_BUDGET = timedelta(minutes=20)


@dag(
    dag_id="notification_dispatch",
    dag_display_name="Notification dispatch (outbox)",
    description="Deliver the queued customer notices at least once; receivers deduplicate by key",
    doc_md=__doc__,
    schedule=[Asset(NOTIFICATIONS_ASSET_URI)],
    start_date=pendulum.datetime(2026, 11, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,  # one dispatcher at a time
    default_args={"owner": "risk-platform"},
    tags=["credit-risk", "post-loan", "notifications"],
)
def notification_dispatch():
    @task(retries=3, retry_delay=timedelta(minutes=1), retry_exponential_backoff=True,
          max_retry_delay=timedelta(minutes=30), execution_timeout=TIME_BUDGET + timedelta(minutes=10))
    def dispatch() -> dict:
        from airflow.sdk import Connection

        from post_loan_review import dispatch as outbox

        kind = outbox.sender_kind()
        if kind in outbox.CONNECTION_IDS:  # the connection is read here and passed on as plain values
            connection = Connection.get(outbox.CONNECTION_IDS[kind])
            settings = outbox.settings_from_connection(
                kind, host=connection.host, schema=connection.schema, port=connection.port,
                login=connection.login, password=connection.password, extra=connection.extra_dejson)
        else:
            settings = outbox.settings_from_env(kind)
        result = outbox.dispatch_notifications(None, outbox.build_sender(kind, settings), outbox.system_clock,
                                               time_budget_seconds=TIME_BUDGET.total_seconds())
        if result["remaining"]:  # retried by Airflow after its backoff; what was sent stays acknowledged
            raise RuntimeError(f"{result['remaining']} notification(s) still queued after this try: {result}")
        return result

    dispatch()


notification_dispatch()
