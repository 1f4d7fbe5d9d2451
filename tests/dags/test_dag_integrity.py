"""The DAG as Airflow sees it: it parses, its tasks run in the documented order, its params form
the UI, its schedule is 02:00 Shanghai, and parsing it stays cheap."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"
TASK_ORDER = ["resolve_review_date", "extract_snapshots", "validate_snapshots", "quality_gate", "reassess_accounts",
              "check_portfolio", "apply_limit_changes", "queue_notifications", "build_report"]
BREAKER_PATHS = ["approve_changes", "no_approval_needed"]


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


@pytest.fixture(scope="module")
def dag(dagbag):
    return dagbag.dags["post_loan_review"]


def test_every_dag_file_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "post_loan_review" in dagbag.dags


def test_tasks_run_in_the_documented_order(dag):
    assert sorted(dag.task_ids) == sorted(TASK_ORDER + BREAKER_PATHS + ["plan_shards"])
    for upstream, downstream in zip(TASK_ORDER, TASK_ORDER[1:]):
        if downstream == "apply_limit_changes":  # through the breaker's two paths
            for path in BREAKER_PATHS:
                assert dag.get_task(path).upstream_task_ids == {"check_portfolio"}
                assert path in dag.get_task(downstream).upstream_task_ids
            continue
        if downstream == "validate_snapshots":  # validation runs beside extraction, not after it
            assert upstream not in dag.get_task(downstream).upstream_task_ids
            continue
        assert upstream in dag.get_task(downstream).upstream_task_ids, f"{upstream} -> {downstream}"
    assert dag.get_task("resolve_review_date").upstream_task_ids == set()
    # the gate waits for both, so no decision is made before every shard is validated and staged
    assert {"extract_snapshots", "validate_snapshots"} <= dag.get_task("quality_gate").upstream_task_ids


def test_the_heavy_stages_map_over_the_shards(dag):
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    for task_id in ("validate_snapshots", "reassess_accounts", "apply_limit_changes"):
        task = dag.get_task(task_id)
        assert isinstance(task, MappedOperator), task_id  # one task instance per shard
        assert "plan_shards" in task.upstream_task_ids
        assert task.map_index_template == "{{ shard_label }}"
    assert dag.get_task("plan_shards").upstream_task_ids == {"resolve_review_date"}
    shards = dag.params.get_param("shards")
    assert shards.value is None and shards.schema["minimum"] == 1 and shards.schema["maximum"] == 64


def test_the_breaker_waits_for_a_person_and_silence_applies_nothing(dag):
    approval = dag.get_task("approve_changes")
    assert type(approval).__name__ == "ApprovalOperator"
    assert approval.defaults == ["Reject"]  # a timeout takes the default: nothing applied
    assert approval.response_timeout.total_seconds() == 6 * 3600
    assert dag.get_task("apply_limit_changes").trigger_rule == "none_failed_min_one_success"
    assert dag.get_task("build_report").trigger_rule == "none_failed"


def test_schedule_and_run_settings(dag):
    assert dag.timetable.expression == "0 2 * * *"
    assert str(dag.timetable.timezone) == "Asia/Shanghai"
    assert dag.max_active_runs == 1
    assert dag.catchup is False
    assert dag.doc_md and "resolve_review_date" in dag.doc_md
    for task in dag.tasks:
        if task.task_id == "approve_changes":
            continue  # a person's answer is not retried; see the breaker test
        assert task.retries >= 1, task.task_id
        assert task.owner == "risk-platform"
        assert task.execution_timeout is not None and task.execution_timeout.total_seconds() <= 2 * 3600
        assert task.on_failure_callback, task.task_id


def test_failures_are_seen_a_run_timeout_and_failure_callbacks(dag):
    from post_loan_review.callbacks import run_failed, task_failed

    assert dag.get_task("apply_limit_changes").on_failure_callback in (task_failed, [task_failed])
    assert dag.dagrun_timeout.total_seconds() == 6 * 3600
    assert dag.on_failure_callback in (run_failed, [run_failed])


def test_params_make_the_trigger_form(dag):
    params = dag.params
    assert params["review_date"] is None
    assert params["dry_run"] is False
    assert params["policy"] == "v1"
    schema = {name: params.get_param(name).schema for name in ("review_date", "dry_run", "policy")}
    assert schema["review_date"]["format"] == "date"
    assert schema["dry_run"]["type"] == "boolean"
    assert "v1" in schema["policy"]["enum"]


@pytest.mark.parametrize("dag_file", sorted(p.name for p in DAGS.glob("*.py")))
def test_parsing_a_dag_file_imports_nothing_heavy(dag_file):
    """Every DAG file is parsed again and again by the DAG processor: heavy imports belong in tasks."""
    probe = (
        "import sys, json, importlib.util\n"
        "import airflow.sdk\n"
        "before = set(sys.modules)\n"
        f"spec = importlib.util.spec_from_file_location('dag_under_test', {str(DAGS / dag_file)!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=os.environ.copy(),
                            check=True)
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    light = {"post_loan_review", "post_loan_review.assets", "post_loan_review.callbacks"}  # import nothing heavy
    heavy = [m for m in loaded if m.split(".")[0] in {"pandas", "great_expectations", "post_loan_review",
                                                       "numpy", "pyarrow", "yaml", "sqlalchemy"} and m not in light]
    assert heavy == []
