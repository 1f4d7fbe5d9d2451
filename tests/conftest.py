"""Shared fixtures: a throwaway warehouse per test (SQLite by default, a fresh PostgreSQL database
where a test asks for one) and small synthetic portfolios."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
POSTGRES_ADMIN_URL = os.environ.get("PLR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
FIRST_DATE = date(2026, 11, 26)
SECOND_DATE = date(2026, 11, 27)


def pytest_configure(config):
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


# the files that take minutes each (measured 2026-11-29), longest first: `make test` runs files on
# several processes (pytest-xdist, --dist loadfile), and handing these out first keeps one of them
# from starting last and running alone at the end
SLOWEST_FILES = ["test_celery_stack.py", "test_dag_run.py", "test_crash_recovery.py", "test_canary_masking.py",
                 "test_report_viewer_api.py", "test_bad_input_catalogue.py", "test_sharded_review.py"]


def pytest_collection_modifyitems(config, items):
    def rank(item) -> int:
        name = item.path.name
        return SLOWEST_FILES.index(name) if name in SLOWEST_FILES else len(SLOWEST_FILES)

    items.sort(key=rank)  # stable: tests keep their order within a file and among the rest


def _use_warehouse(url: str, tmp_path, monkeypatch):
    """Point PLR_DATABASE_URL and PLR_REPORT_DIR at a test's own warehouse; create its tables."""
    from post_loan_review import db

    monkeypatch.setenv("PLR_DATABASE_URL", url)
    monkeypatch.setenv("PLR_REPORT_DIR", str(tmp_path / "reports"))
    engine = db.engine(url)
    with engine.begin() as conn:
        db.init_db(conn)
    return engine


@pytest.fixture
def warehouse(tmp_path, monkeypatch):
    """An empty SQLite warehouse with every table, set as PLR_DATABASE_URL; yields the engine."""
    engine = _use_warehouse(f"sqlite:///{tmp_path / 'warehouse.db'}", tmp_path, monkeypatch)
    yield engine
    engine.dispose()


def _postgres_available() -> str | None:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as error:  # the reason is shown in the skip or failure
        return f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {error}"


@pytest.fixture
def postgres_warehouse(tmp_path, monkeypatch):
    """A fresh PostgreSQL database with every table, set as PLR_DATABASE_URL; dropped afterwards.
    In CI (CI=true) an unreachable server fails the test instead of skipping it."""
    from sqlalchemy import create_engine, text

    from post_loan_review import db

    problem = _postgres_available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    name = f"plr_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'create database "{name}"'))
    engine = _use_warehouse(POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", tmp_path, monkeypatch)
    yield engine
    engine.dispose()
    db._engine_for.cache_clear()
    with admin.connect() as conn:
        conn.execute(text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()


@pytest.fixture(params=["warehouse", "postgres_warehouse"])
def any_warehouse(request):
    """The test once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue(request.param)


def load_portfolio(engine, accounts: int = 3000, seed: int = 11, **kwargs):
    """Generate and load a small portfolio ending at SECOND_DATE; returns it."""
    from post_loan_review import db, sample_data

    portfolio = sample_data.generate(accounts, seed=seed, end_date=SECOND_DATE, **kwargs)
    with engine.begin() as conn:
        db.init_db(conn)
        sample_data.load(conn, portfolio)
    return portfolio


def validated_run(review_date, shard_count: int | None = None) -> dict:
    """A live run of ``review_date`` through the quality gate, stage by stage and shard by shard
    as the DAG runs it; the run's XCom."""
    from post_loan_review import stages

    run = stages.resolve_review_date(review_date, False, None, shard_count=shard_count)
    extracted = stages.extract_snapshots(run)
    for shard in run["shards"]:
        stages.validate_snapshots(run, shard)
    stages.quality_gate(run, extracted["previous_snapshot_date"])
    return run


def reassessed_run(review_date, shard_count: int | None = None) -> dict:
    """``validated_run``, then every shard reassessed: ready for the breaker."""
    from post_loan_review import stages

    run = validated_run(review_date, shard_count)
    for shard in run["shards"]:
        stages.reassess_accounts(run, shard)
    return run


@pytest.fixture
def portfolio(warehouse):
    return load_portfolio(warehouse)


@pytest.fixture(scope="session")
def report_viewer_server(tmp_path_factory):
    """A real Airflow API server with the report viewer plugin, after one real run of the DAG on a
    small portfolio (tests/report_viewer_server.py); shared by the viewer's API and browser tests."""
    from report_viewer_server import ReportViewerServer

    from post_loan_review import db

    base = tmp_path_factory.mktemp("report_viewer")
    warehouse_url = f"sqlite:///{base / 'warehouse.db'}"
    engine = db.engine(warehouse_url)
    load_portfolio(engine, accounts=1000)
    engine.dispose()
    server = ReportViewerServer(home=base / "airflow", report_dir=base / "reports", warehouse_url=warehouse_url)
    server.prepare()
    try:
        server.start()
        yield server
    finally:
        server.stop()


# --- Airflow itself, through its command line (airflow dags test) ------------------------------

AIRFLOW = str(Path(sys.executable).with_name("airflow"))


def airflow(env, *args, expect_success=True):
    result = subprocess.run([AIRFLOW, *args], env=env, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    if expect_success:
        assert result.returncode == 0, f"airflow {' '.join(args)} failed:\n{output[-4000:]}"
    else:
        assert result.returncode != 0, f"airflow {' '.join(args)} should have failed:\n{output[-4000:]}"
    return output


@pytest.fixture
def airflow_env(tmp_path, warehouse):
    home = tmp_path / "airflow"
    home.mkdir()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
    }
    airflow(env, "db", "migrate")
    return env


def run_dag(env, logical_date: str, conf: dict | None = None) -> str:
    args = ["dags", "test", "post_loan_review", logical_date]
    if conf:
        args += ["--conf", json.dumps(conf)]
    output = airflow(env, *args)
    assert "state=failed" not in output.lower()
    for task_id in ("resolve_review_date", "validate_snapshots", "build_report"):
        assert task_id in output
    return output
