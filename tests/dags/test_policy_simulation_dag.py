"""The policy_simulation DAG as Airflow sees it: it parses, runs only when triggered, maps one
task per date and offers its params in the trigger form (its parse cost: test_dag_integrity)."""

from __future__ import annotations

from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"
POLICIES = sorted(p.stem for p in (DAGS.parent / "include" / "policies").glob("*.yaml"))


@pytest.fixture(scope="module")
def dag():
    from airflow.dag_processing.dagbag import DagBag

    dagbag = DagBag(dag_folder=str(DAGS))
    assert dagbag.import_errors == {}
    return dagbag.dags["policy_simulation"]


def test_it_is_manual_only(dag):
    assert dag.timetable.can_be_scheduled is False
    assert type(dag.timetable).__name__ == "NullTimetable"
    assert dag.max_active_runs == 1
    assert dag.doc_md and "nothing is applied" in dag.doc_md.lower()


def test_one_simulate_date_task_is_mapped_per_date(dag):
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    assert sorted(dag.task_ids) == ["resolve_dates", "simulate_date", "summarise"]
    simulate = dag.get_task("simulate_date")
    assert isinstance(simulate, MappedOperator)
    assert not isinstance(dag.get_task("resolve_dates"), MappedOperator)
    assert simulate.upstream_task_ids == {"resolve_dates"}
    assert dag.get_task("summarise").upstream_task_ids == {"simulate_date"}
    for task in dag.tasks:
        assert task.retries == 1, task.task_id
        assert task.owner == "risk-platform"


def test_params_make_the_trigger_form(dag):
    schema = {name: dag.params.get_param(name).schema for name in ("candidate_policy", "from_date", "to_date")}
    assert schema["candidate_policy"]["enum"] == POLICIES and "v1" in POLICIES
    assert schema["from_date"]["format"] == "date"
    assert not dag.params.get_param("from_date").has_value  # required: no default date
    assert schema["to_date"]["format"] == "date" and "null" in schema["to_date"]["type"]
    assert dag.params["to_date"] is None
