"""The production shape natively: Airflow 3.3 with the CeleryExecutor on PostgreSQL metadata and a
Redis broker (scripts/native_stack.py), the warehouse on PostgreSQL. Tonight's run is triggered
through the REST API, then the three nights before it are backfilled with ``airflow backfill
create``; all four runs must succeed on the Celery worker and leave their reviews in the warehouse.
Then tonight once more with the scores shifted: the breaker asks for approval, the test rejects
through the REST API, and nothing is applied.

Deselect with ``-m "not stack"``. Needs PostgreSQL and Redis on loopback; in CI (CI=true) their
absence fails the test instead of skipping it."""

from __future__ import annotations

import importlib.util
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from datetime import date, datetime, time as clock, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import POSTGRES_ADMIN_URL, PROJECT_ROOT, _postgres_available

pytestmark = [pytest.mark.stack, pytest.mark.postgres]

REDIS_URL = os.environ.get("PLR_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")  # never DB 0
DAG_ID = "post_loan_review"
ACCOUNTS = 2000
RUNS_TIMEOUT_S = 8 * 60
FAILED_STATES = {"failed", "up_for_retry", "upstream_failed"}  # up_for_retry: fail now, not in 5 minutes
PLR = str(Path(sys.executable).with_name("plr"))


def _load_native_stack():
    spec = importlib.util.spec_from_file_location("native_stack", PROJECT_ROOT / "scripts" / "native_stack.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


native_stack = _load_native_stack()


def _redis_problem() -> str | None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
        return None
    except Exception as error:  # the reason is shown in the skip or failure
        return f"Redis not reachable at {REDIS_URL}: {error}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _plr(database_url: str, *args: str) -> str:
    result = subprocess.run([PLR, *args], env={**os.environ, "PLR_DATABASE_URL": database_url},
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"plr {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
    return result.stdout.strip()


@pytest.fixture
def stack_databases():
    """A fresh metadata and a fresh warehouse database on PostgreSQL; both dropped afterwards."""
    from sqlalchemy import create_engine, text

    problem = _postgres_available() or _redis_problem()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    suffix = uuid.uuid4().hex[:10]
    names = {"metadata": f"plr_test_airflow_{suffix}", "warehouse": f"plr_test_wh_{suffix}"}
    server = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for name in names.values():
                conn.execute(text(f'create database "{name}"'))
        yield {what: f"{server}/{name}" for what, name in names.items()}
    finally:
        with admin.connect() as conn:
            for name in names.values():
                conn.execute(text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()


@pytest.fixture
def stack(tmp_path, stack_databases):
    """The native stack on a free loopback port, a flushed Redis DB and a small portfolio; stopped
    (every process) and the Redis DB flushed again afterwards, whatever happened."""
    import redis

    broker = redis.Redis.from_url(REDIS_URL)
    broker.flushdb()
    warehouse_url = stack_databases["warehouse"]
    _plr(warehouse_url, "init-db")
    _plr(warehouse_url, "generate", "--accounts", str(ACCOUNTS), "--days", "4")
    running = native_stack.NativeStack(
        tmp_path / "airflow", stack_databases["metadata"], warehouse_url, REDIS_URL, _free_port(),
        report_dir=tmp_path / "reports", schedule=False)  # no scheduled run of "today": only ours
    try:
        running.start()
        yield running
    finally:
        left = running.stop()
        broker.flushdb()
        broker.close()
        assert not left, f"processes of the stack still alive after stop: {left}"


def _pages(stack, path: str, key: str) -> list[dict]:
    items, offset = [], 0
    while True:
        page = stack.api("GET", f"{path}{'&' if '?' in path else '?'}limit=100&offset={offset}")
        items += page[key]
        offset += len(page[key])
        if not page[key] or offset >= page["total_entries"]:
            return items


def _task_log_tail(stack, run_id: str, task_id: str, lines: int = 15) -> str:
    """The error lines of the task's latest attempt log, else its tail."""
    logs = sorted((stack.home / "logs" / f"dag_id={DAG_ID}" / f"run_id={run_id}").glob(f"task_id={task_id}/**/*.log"))
    if not logs:
        return f"  (no task log under {stack.home / 'logs'})"
    tail = native_stack._tail(logs[-1], 400).splitlines()
    errors = [line[:1500] for line in tail if '"level":"error"' in line or "Error" in line]
    return f"  --- {logs[-1]}\n" + "\n".join(errors[-5:] or tail[-lines:])


def _failure_report(stack, runs: list[dict]) -> str:
    parts = []
    for run in runs:
        tis = _pages(stack, f"/api/v2/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}/taskInstances", "task_instances")
        states = ", ".join(f"{ti['task_id']}={ti['state']}" for ti in tis)
        parts.append(f"run {run['dag_run_id']} ({run['state']}): {states}")
        for ti in tis:
            if ti["state"] in FAILED_STATES:
                parts.append(f" task {ti['task_id']} {ti['state']}:\n{_task_log_tail(stack, run['dag_run_id'], ti['task_id'])}")
    return "\n".join(parts)


def _wait_for_runs(stack, expected: int, deadline: float) -> list[dict]:
    """Poll the REST API until ``expected`` runs exist and all succeeded; fail at the first failure."""
    runs: list[dict] = []
    while time.monotonic() < deadline:
        stack.check_alive()
        runs = _pages(stack, f"/api/v2/dags/{DAG_ID}/dagRuns", "dag_runs")
        broken = [r for r in runs if r["state"] == "failed"]
        for run in runs:
            if run["state"] == "running":
                tis = _pages(stack, f"/api/v2/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}/taskInstances",
                             "task_instances")
                if any(ti["state"] in FAILED_STATES for ti in tis):
                    broken.append(run)
        if broken:
            pytest.fail("a DAG run failed on the Celery stack:\n" + _failure_report(stack, broken))
        if len(runs) >= expected and all(r["state"] == "success" for r in runs):
            return runs
        time.sleep(3)
    pytest.fail(f"not {expected} successful runs within {RUNS_TIMEOUT_S} s; now:\n" + _failure_report(stack, runs))


def _dag_visible(stack, deadline: float) -> None:
    while time.monotonic() < deadline:
        stack.check_alive()
        try:
            stack.api("GET", f"/api/v2/dags/{DAG_ID}")
            return
        except native_stack.StackError as error:
            if "answered 404" not in str(error):
                raise
        time.sleep(2)
    errors = stack.api("GET", "/api/v2/importErrors")
    pytest.fail(f"the dag-processor did not register {DAG_ID}; import errors: {errors}")


def _shanghai_02(review_date: date) -> str:
    """The logical date of the scheduled run that reviews ``review_date`` (02:00 Asia/Shanghai), in UTC."""
    moment = datetime.combine(review_date, clock(2, 0), tzinfo=ZoneInfo("Asia/Shanghai"))
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def test_celery_stack_runs_a_triggered_night_and_a_backfill(stack):
    started = time.monotonic()
    deadline = started + RUNS_TIMEOUT_S
    warehouse_url = stack.env["PLR_DATABASE_URL"]
    latest = date.fromisoformat(_plr(warehouse_url, "latest-date"))
    earlier = [latest - timedelta(days=k) for k in (3, 2, 1)]

    _dag_visible(stack, deadline)
    assert stack.api("PATCH", f"/api/v2/dags/{DAG_ID}", {"is_paused": False})["is_paused"] is False

    # tonight: through the REST API, with a JWT from the auth manager's token endpoint
    triggered = stack.api("POST", f"/api/v2/dags/{DAG_ID}/dagRuns", {
        "logical_date": _shanghai_02(latest), "conf": {"review_date": latest.isoformat(), "dry_run": False}})
    assert triggered["state"] == "queued" and triggered["conf"]["review_date"] == latest.isoformat()
    _wait_for_runs(stack, 1, deadline)

    # the three nights before, after tonight's review: the backfill's logical dates are the cron
    # times (02:00 Asia/Shanghai = 18:00 UTC the day before), so the window is given in +08:00;
    # plain dates would be UTC midnights and drop the first night
    stack.airflow("backfill", "create", "--dag-id", DAG_ID,
                  "--from-date", f"{earlier[0]}T00:00:00+08:00", "--to-date", f"{earlier[-1]}T23:59:59+08:00",
                  "--max-active-runs", "1")  # a backfill's own default is 10 at once, not the DAG's 1
    runs = _wait_for_runs(stack, 4, deadline)
    by_type = sorted(r["run_type"] for r in runs)
    assert by_type == ["backfill", "backfill", "backfill", "manual"], f"unexpected runs: {by_type}"
    assert sorted(r["logical_date"] for r in runs if r["run_type"] == "backfill") == \
        [_shanghai_02(d) for d in earlier]

    _check_warehouse(warehouse_url, earlier, latest, stack.env["PLR_REPORT_DIR"])
    _check_ran_on_celery(stack, runs)
    _check_the_worker_preloaded_the_tasks_modules(stack)
    _check_a_rejected_night(stack, warehouse_url, latest)

    left = stack.stop()
    assert not left and not stack.alive_pids(), f"stack processes alive after stop: {left or stack.alive_pids()}"
    print(f"celery stack: 5 runs in {time.monotonic() - started:.0f} s after start-up")


def _state(stack, task_instance: str) -> str | None:
    """The state of a task instance; None while its run has not created it yet."""
    try:
        return stack.api("GET", task_instance)["state"]
    except native_stack.StackError as error:
        if "answered 404" in str(error):
            return None
        raise


def _check_a_rejected_night(stack, warehouse_url: str, latest: date) -> None:
    """Tonight again, after every score of the night fell by 30 points: the breaker trips, a
    person rejects through the REST API, and the mapped apply is skipped before it expands. The
    run succeeds with its report saying nothing was applied; the warehouse keeps tonight's first
    review."""
    from sqlalchemy import create_engine, text

    deadline = time.monotonic() + RUNS_TIMEOUT_S
    engine = create_engine(warehouse_url)
    counts = ("select (select count(*) from limit_decisions), (select count(*) from limit_ledger), "
              "(select count(*) from notifications)")
    try:
        with engine.begin() as conn:
            before = tuple(conn.execute(text(counts)).one())
            conn.execute(text("update credit_score_snapshots set score = greatest(score - 30, 350) "
                              "where snapshot_date = :d"), {"d": latest})
        run = stack.api("POST", f"/api/v2/dags/{DAG_ID}/dagRuns", {
            "logical_date": _shanghai_02(latest + timedelta(days=1)),
            "conf": {"review_date": latest.isoformat(), "dry_run": False}})
        approval = f"/api/v2/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}/taskInstances/approve_changes"
        while _state(stack, approval) != "awaiting_input":  # waiting for a person
            stack.check_alive()
            if time.monotonic() > deadline:
                pytest.fail("the breaker never asked for approval:\n" + _failure_report(stack, [run]))
            time.sleep(2)
        answer = stack.api("PATCH", f"{approval}/-1/hitlDetails", {"chosen_options": ["Reject"]})
        assert answer["chosen_options"] == ["Reject"]
        _wait_for_runs(stack, 5, deadline)
        states = {(ti["task_id"], ti["map_index"]): ti["state"] for ti in _pages(
            stack, f"/api/v2/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}/taskInstances", "task_instances")}
        assert states[("approve_changes", -1)] == "success" and states[("build_report", -1)] == "success"
        assert {state for (task, _), state in states.items() if task == "apply_limit_changes"} == {"skipped"}
        assert states[("queue_notifications", -1)] == "skipped"
        with engine.connect() as conn:
            assert tuple(conn.execute(text(counts)).one()) == before
            status = conn.execute(text("select status from review_runs where review_date = :d "
                                       "and run_mode = 'live'"), {"d": latest}).scalar()
    finally:
        engine.dispose()
    assert status == "not_applied"


def _check_warehouse(warehouse_url: str, earlier: list[date], latest: date, report_dir: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(warehouse_url)
    try:
        with engine.connect() as conn:
            runs = {row.review_date: row for row in conn.execute(text(
                "select review_date, status, accounts_reviewed from review_runs where run_mode = 'live'"))}
            decided = dict(conn.execute(text(
                "select review_date, count(distinct account_id) from limit_decisions group by review_date")).all())
            # tonight decided every account first, so the backfill must not apply over it
            backfill_applied = conn.execute(text(
                "select count(*) from limit_decisions as old join limit_decisions as newer "
                "on newer.account_id = old.account_id and newer.review_date = :latest "
                "where old.review_date < :latest and old.is_applied"), {"latest": latest}).scalar()
    finally:
        engine.dispose()
    for review_date in [*earlier, latest]:
        run = runs.get(review_date)
        assert run is not None, f"no live review_runs row for {review_date}; rows: {sorted(runs)}"
        assert run.status == "reported", f"review of {review_date} ended as {run.status!r}, not 'reported'"
        assert run.accounts_reviewed and run.accounts_reviewed > ACCOUNTS // 2, \
            f"review of {review_date} reviewed {run.accounts_reviewed} accounts"
        assert decided.get(review_date) == run.accounts_reviewed, \
            f"limit_decisions for {review_date}: {decided.get(review_date)} accounts, reviewed {run.accounts_reviewed}"
        assert (Path(report_dir) / review_date.isoformat() / "live" / "summary.json").is_file(), \
            f"no report for {review_date} under {report_dir}"
    assert backfill_applied == 0, f"{backfill_applied} backfill decisions were applied over tonight's review"


def _check_the_worker_preloaded_the_tasks_modules(stack) -> None:
    """The worker imported Arrow and Great Expectations (with SciPy) at start, so the task
    processes it forks inherit them (post_loan_review.preload): its own memory maps their
    compiled libraries. Airflow itself imports neither."""
    worker = stack.processes["celery-worker"]
    assert worker.poll() is None, "the Celery worker is no longer running"
    mapped = Path(f"/proc/{worker.pid}/maps").read_text(encoding="utf-8")
    for library in ("libarrow.so", "/scipy/"):
        assert library in mapped, f"the Celery worker (pid {worker.pid}) has not loaded {library}"


def _check_ran_on_celery(stack, runs: list[dict]) -> None:
    """Every task that ran on a worker went through Celery: the worker logged it, and the Celery
    result backend (on the metadata database) holds a result per executed task."""
    from sqlalchemy import create_engine, text

    executed = set()
    for run in runs:
        for ti in _pages(stack, f"/api/v2/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}/taskInstances", "task_instances"):
            if ti["state"] == "success" and ti["hostname"]:  # EmptyOperators finish in the scheduler
                executed.add((run["dag_run_id"], ti["task_id"], ti["map_index"]))
    assert len(executed) >= 4 * 5, f"too few task instances ran: {sorted(executed)}"
    worker_log = (stack.log_dir / "celery-worker.log").read_text(encoding="utf-8", errors="replace")
    in_celery = set()
    for line in worker_log.splitlines():
        if "Executing workload in Celery" in line:
            found = {key: re.search(rf"\b{key}=(?:'([^']*)'|(-?\d+))", line) for key in ("run_id", "task_id", "map_index")}
            if all(found.values()):
                run_id, task_id, map_index = (m.group(1) or m.group(2) for m in found.values())
                in_celery.add((run_id, task_id, int(map_index)))
    missing = executed - in_celery
    assert not missing, f"task instances the Celery worker did not log: {sorted(missing)[:10]}"

    # the worker stores a task's Celery result just after the task reported success to Airflow
    engine = create_engine(stack.metadata_url)
    try:
        for _ in range(30):
            with engine.connect() as conn:
                results = conn.execute(text("select count(*) from celery_taskmeta where status = 'SUCCESS'")).scalar()
            if results >= len(executed):
                break
            time.sleep(1)
    finally:
        engine.dispose()
    assert results >= len(executed), f"Celery result backend holds {results} successes for {len(executed)} tasks"
