"""The Airflow assets the DAGs share, as plain strings: the DAG files build ``Asset`` objects from
these. This module imports nothing, so a DAG file may import it at parse time."""

# The notifications outbox: updated by post_loan_review.queue_notifications, consumed by the
# notification_dispatch DAG.
NOTIFICATIONS_ASSET_URI = "plr://warehouse/notifications"
