"""The notification_dispatch DAG as Airflow sees it: it parses, runs when the nightly DAG's
queue_notifications updates the outbox asset (and by hand), and its one task retries with an
exponential backoff."""

from __future__ import annotations

from pathlib import Path

import pytest

from post_loan_review.assets import NOTIFICATIONS_ASSET_URI

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    dagbag = DagBag(dag_folder=str(DAGS))
    assert dagbag.import_errors == {}
    return dagbag


@pytest.fixture(scope="module")
def dag(dagbag):
    return dagbag.dags["notification_dispatch"]


def test_it_is_scheduled_on_the_outbox_asset(dag):
    from airflow.sdk import Asset

    assert type(dag.timetable).__name__ == "AssetTriggeredTimetable"
    assert list(dag.timetable.asset_condition.objects) == [Asset(NOTIFICATIONS_ASSET_URI)]
    assert dag.max_active_runs == 1
    assert dag.catchup is False
    assert dag.doc_md and "at least once" in dag.doc_md.lower()


def test_the_nightly_queue_notifications_task_updates_that_asset(dagbag):
    from airflow.sdk import Asset

    assert dagbag.dags["post_loan_review"].get_task("queue_notifications").outlets == [Asset(NOTIFICATIONS_ASSET_URI)]
    assert NOTIFICATIONS_ASSET_URI == "plr://warehouse/notifications"


def test_one_dispatch_task_retried_with_exponential_backoff(dag):
    assert dag.task_ids == ["dispatch"]
    task = dag.get_task("dispatch")
    assert task.retries == 3
    assert task.retry_exponential_backoff
    assert task.owner == "risk-platform"
