"""The manual backtest DAG: it parses, it is manual, its params form the trigger form, and its
tasks call the package in order."""

from __future__ import annotations

from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS / "backtest.py"))
    assert bag.import_errors == {}
    return bag.dags["backtest"]


def test_backtest_is_manual_and_replays_then_scores(dag):
    assert type(dag.timetable).__name__ == "NullTimetable" and dag.timetable.can_be_scheduled is False
    assert dag.max_active_runs == 1 and dag.catchup is False
    assert dag.get_task("score_decisions").upstream_task_ids == {"replay_months"}
    assert dag.doc_md and "CC BY 4.0" in dag.doc_md
    for task in dag.tasks:
        assert task.retries >= 1 and task.execution_timeout is not None


def test_backtest_params(dag):
    assert dag.params["policy"] == "v4" and "v1" in dag.params.get_param("policy").schema["enum"]
    assert dag.params["sample_size"] == 0 and dag.params.get_param("sample_size").schema["minimum"] == 0
    assert dag.params["database_url"] == ""
