"""The Celery worker imports what the review's tasks import once, at start, so that the task
processes it forks inherit the modules (post_loan_review.preload). Checked on Airflow's own Celery
app, built in a fresh interpreter with the native stack's environment (docker-compose.yaml gives
the same setting, tests/unit/test_compose.py): it keeps Airflow's broker and result backend,
names the preload among the modules a worker imports before it forks its pool, and importing
them opens no connection and starts no thread for the forks to share."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import PROJECT_ROOT
from test_native_stack import BROKER, make

WORKER_START = """
import json, sys, threading
from airflow.providers.celery.executors.celery_executor_utils import app
threads, before = threading.active_count(), "great_expectations" in sys.modules
app.loader.import_default_modules()  # what a Celery worker runs at start, before it forks its pool
from post_loan_review import db
print(json.dumps({
    "broker_url": app.conf.broker_url,
    "result_backend": app.conf.result_backend,
    "imports": list(app.conf.imports),
    "imported_before": before,
    "imported": [name for name in ("great_expectations", "pandas", "pyarrow.csv", "post_loan_review.stages")
                 if name in sys.modules],
    "new_threads": threading.active_count() - threads,
    "engines": db._engine_for.cache_info().currsize,
}))
"""


def test_the_workers_celery_app_imports_the_tasks_modules_before_it_forks(tmp_path, monkeypatch):
    stack = make(tmp_path, monkeypatch)
    done = subprocess.run([sys.executable, "-c", WORKER_START], env=stack.env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    worker = json.loads(done.stdout.strip().splitlines()[-1])
    assert worker["broker_url"] == BROKER  # Airflow's own settings, with ours laid over them
    assert worker["result_backend"] == stack.env["AIRFLOW__CELERY__RESULT_BACKEND"]
    assert worker["imports"] == ["post_loan_review.preload"]
    assert not worker["imported_before"]  # Airflow alone does not import Great Expectations
    assert worker["imported"] == ["great_expectations", "pandas", "pyarrow.csv", "post_loan_review.stages"]
    assert worker["new_threads"] == 0 and worker["engines"] == 0
    assert str(PROJECT_ROOT / "include" / "airflow_config") in stack.env["PYTHONPATH"].split(":")
