"""scripts/native_stack.py without starting anything: what it would run and with which settings."""

from __future__ import annotations

import importlib.util

import pytest
from conftest import PROJECT_ROOT

spec = importlib.util.spec_from_file_location("native_stack", PROJECT_ROOT / "scripts" / "native_stack.py")
native_stack = importlib.util.module_from_spec(spec)
spec.loader.exec_module(native_stack)

META = "postgresql://postgres@127.0.0.1:5432/plr_airflow"
WAREHOUSE = "postgresql+psycopg://postgres@127.0.0.1:5432/plr_warehouse"
BROKER = "redis://127.0.0.1:6379/3"


def make(tmp_path, monkeypatch, **kwargs):
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "sqlite:////tmp/elsewhere.db")  # as the Makefile exports
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "LocalExecutor")
    return native_stack.NativeStack(tmp_path / "home", META, WAREHOUSE, BROKER, 18123, **kwargs)


def test_the_environment_is_the_stacks_own_and_loopback_only(tmp_path, monkeypatch):
    stack = make(tmp_path, monkeypatch)
    env = stack.env
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == "postgresql+psycopg://postgres@127.0.0.1:5432/plr_airflow"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"].startswith("postgresql+psycopg_async://")
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"] == BROKER
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"] == "db+postgresql+psycopg://postgres@127.0.0.1:5432/plr_airflow"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:18123/execution/"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(PROJECT_ROOT / "dags")
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["PLR_DATABASE_URL"] == WAREHOUSE
    assert env["PATH"].split(":")[0] == str(PROJECT_ROOT / ".venv" / "bin")
    assert env["AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE"] == "True"
    commands = stack.commands()
    assert list(commands) == ["api-server", "scheduler", "dag-processor", "triggerer", "celery-worker"]
    assert commands["api-server"][2:6] == ["--host", "127.0.0.1", "--port", "18123"]
    for name in ("scheduler", "triggerer", "celery-worker"):  # their log servers would bind every interface
        assert "--skip-serve-logs" in commands[name]
    assert commands["celery-worker"][commands["celery-worker"].index("--concurrency") + 1] == "2"


def test_secrets_are_new_for_every_stack(tmp_path, monkeypatch):
    first, second = make(tmp_path, monkeypatch), make(tmp_path, monkeypatch)
    for key in ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY"):
        assert first.env[key] and first.env[key] != second.env[key], key
    assert first.admin_password != second.admin_password
    assert make(tmp_path, monkeypatch, admin_password="known").admin_password == "known"
    assert make(tmp_path, monkeypatch, schedule=False).env["AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE"] == "False"


def test_a_url_off_this_machine_is_refused(tmp_path):
    with pytest.raises(native_stack.StackError, match="broker URL must point at a loopback"):
        native_stack.NativeStack(tmp_path, META, WAREHOUSE, "redis://10.0.0.5:6379/0")
    with pytest.raises(native_stack.StackError, match="metadata URL"):
        native_stack.NativeStack(tmp_path, "postgresql://postgres@db.example.com/x", WAREHOUSE, BROKER)
