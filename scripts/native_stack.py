#!/usr/bin/env python3
"""The production stack of docker-compose.yaml, natively on this machine: Airflow 3.3 with the
CeleryExecutor on PostgreSQL metadata and a Redis broker, every component on loopback only.

    python scripts/native_stack.py up [--home DIR] [--metadata-url URL] [--warehouse-url URL]
                                      [--broker-url URL] [--port 8080]
    python scripts/native_stack.py createdb URL [URL ...]

``up`` runs ``airflow db migrate``, then starts ``api-server``, ``scheduler``, ``dag-processor``,
``triggerer`` and ``celery worker``, each in its own process group with its log in
``<home>/logs/<name>.log``, waits for the API server's health endpoint and stays in the foreground
until Ctrl-C or SIGTERM; then it stops every process it started (SIGTERM to each process group,
SIGKILL after a timeout, then a sweep of anything still carrying this stack's id).

From Python (tests)::

    with NativeStack(home, metadata_url, warehouse_url, broker_url, port) as stack:
        stack.api("GET", "/api/v2/dags/post_loan_review")
        stack.airflow("backfill", "create", ...)

Only the standard library at import; ``createdb`` uses SQLAlchemy from the project's venv. No
Airflow import: every Airflow setting goes to the processes as an ``AIRFLOW__*`` variable, and the
secrets (Fernet key, JWT secret, API secret key) are generated per run, never written to the repo.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_HOME = PROJECT_ROOT / ".local" / "airflow-prod"
AIRFLOW_CONFIG_DIR = PROJECT_ROOT / "include" / "airflow_config"  # modules Airflow imports by name (PYTHONPATH)
DEFAULT_METADATA_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/plr_airflow"
DEFAULT_WAREHOUSE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/plr_warehouse"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"
ADMIN_USER = "admin"
# Children inherit this variable, so every process of a stack (even one that left its process
# group, as Airflow's task processes do) can be found and stopped by it.
STACK_ID_VARIABLE = "PLR_NATIVE_STACK_ID"
# Start order; stopped in reverse (the worker first, the API server last).
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer", "celery-worker")


class StackError(RuntimeError):
    """A component of the stack failed to start or died; the message names it and its log."""


def _psycopg(url: str) -> str:
    """SQLAlchemy URLs for PostgreSQL with psycopg 3 (the venv has no psycopg2)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError as error:
        return f"(no log: {error})"


def _is_loopback(url_or_host: str) -> bool:
    host = url_or_host.split("://", 1)[-1].split("@")[-1].split("/")[0].rsplit(":", 1)[0].strip("[]")
    return host in ("127.0.0.1", "localhost", "::1")


def _pids_with_stack_id(stack_id: str) -> list[int]:
    """Every live process whose environment carries this stack's id (Linux /proc)."""
    marker = f"{STACK_ID_VARIABLE}={stack_id}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                status = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if status != "Z":  # a zombie is dead; its parent has not reaped it yet
                    found.append(int(entry.name))
        except (OSError, IndexError):  # gone meanwhile, or not ours to read
            continue
    return found


def create_database_if_missing(url: str) -> bool:
    """Create the PostgreSQL database named by ``url`` unless it exists; True when created."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(_psycopg(url))
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if conn.execute(text("select 1 from pg_database where datname = :n"), {"n": target.database}).first():
                return False
            conn.execute(text(f'create database "{target.database}"'))
            return True
    finally:
        admin.dispose()


class NativeStack:
    """Airflow with the CeleryExecutor as local processes; a context manager that stops them all."""

    def __init__(self, home: str | Path, metadata_url: str, warehouse_url: str, broker_url: str,
                 port: int = 8080, *, report_dir: str | Path | None = None, admin_password: str | None = None,
                 schedule: bool = True, worker_concurrency: int = 2, startup_timeout: float = 180,
                 stop_timeout: float = 20, venv: str | Path | None = None):
        self.home = Path(home).resolve()
        self.metadata_url = _psycopg(metadata_url)
        self.port = int(port)
        self.base_url = f"http://127.0.0.1:{self.port}"
        for what, url in (("metadata", self.metadata_url), ("warehouse", warehouse_url), ("broker", broker_url)):
            if "://" in url and not url.startswith("sqlite") and not _is_loopback(url):
                raise StackError(f"the {what} URL must point at a loopback address, not {url}")
        self.bin = Path(venv).resolve() / "bin" if venv else PROJECT_ROOT / ".venv" / "bin"
        if not (self.bin / "airflow").is_file():
            raise StackError(f"no airflow in {self.bin}: run `make venv` first")
        self.log_dir = self.home / "logs"
        self.admin_password = admin_password or secrets.token_urlsafe(12)
        self.stack_id = secrets.token_hex(8)
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.worker_concurrency = worker_concurrency
        self.processes: dict[str, subprocess.Popen] = {}
        self._log_files: list = []
        self._token: str | None = None
        self.env = self._environment(warehouse_url, broker_url, report_dir, schedule)

    # -- configuration -------------------------------------------------------------------------

    def _environment(self, warehouse_url, broker_url, report_dir, schedule) -> dict[str, str]:
        # nothing Airflow-related leaks in from the caller (the Makefile exports a SQLite setup)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        fernet_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        env.update({
            STACK_ID_VARIABLE: self.stack_id,
            # the worker's task processes run `python` and `airflow` from the venv
            "PATH": f"{self.bin}{os.pathsep}{env.get('PATH', '')}",
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__FERNET_KEY": fernet_key,
            # workers report task state to the API server's execution API: it is on our port
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
            "AIRFLOW__CORE__AUTH_MANAGER":
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.home / "passwords.json"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.metadata_url,
            # Airflow would derive postgresql+asyncpg, which is not installed; psycopg 3 does async
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC":
                self.metadata_url.replace("postgresql+psycopg://", "postgresql+psycopg_async://"),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__BASE_URL": self.base_url,
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
            # every component signs and checks the same tokens (API server, scheduler, workers)
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__CELERY__BROKER_URL": broker_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + self.metadata_url,
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.worker_concurrency),
            # the worker imports what every task imports once, before it forks the tasks
            "AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS": "post_loan_review_celery.CELERY_CONFIG",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(AIRFLOW_CONFIG_DIR), env.get("PYTHONPATH")])),
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": str(bool(schedule)),
            "PLR_DATABASE_URL": warehouse_url,
            "GX_ANALYTICS_ENABLED": "false",
        })
        if report_dir:
            env["PLR_REPORT_DIR"] = str(Path(report_dir).resolve())
        return env

    def commands(self) -> dict[str, list[str]]:
        airflow = str(self.bin / "airflow")
        # --skip-serve-logs: the log servers bind every interface; all components share this
        # AIRFLOW_HOME, so the API server reads task logs from the files directly.
        return {
            "api-server": [airflow, "api-server", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"],
            "scheduler": [airflow, "scheduler", "--skip-serve-logs"],
            "dag-processor": [airflow, "dag-processor"],
            "triggerer": [airflow, "triggerer", "--skip-serve-logs"],
            "celery-worker": [airflow, "celery", "worker", "--concurrency", str(self.worker_concurrency),
                              "--skip-serve-logs", "--celery-hostname", f"plr-{self.port}@%h"],
        }

    # -- life cycle ----------------------------------------------------------------------------

    def __enter__(self) -> "NativeStack":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._check_port_free()
        passwords = self.home / "passwords.json"
        passwords.write_text(json.dumps({ADMIN_USER: self.admin_password}) + "\n", encoding="utf-8")
        passwords.chmod(0o600)
        self.migrate()
        for name, command in self.commands().items():
            log = open(self.log_dir / f"{name}.log", "ab")
            self._log_files.append(log)
            self.processes[name] = subprocess.Popen(
                command, env=self.env, cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)  # its own session and process group
        self.wait_healthy()

    def migrate(self) -> None:
        log = self.log_dir / "db-migrate.log"
        with open(log, "ab") as out:
            result = subprocess.run([str(self.bin / "airflow"), "db", "migrate"], env=self.env, cwd=PROJECT_ROOT,
                                    stdout=out, stderr=subprocess.STDOUT, timeout=600)
        if result.returncode:
            raise StackError(f"airflow db migrate failed (exit {result.returncode}); {log}:\n{_tail(log)}")

    def _check_port_free(self) -> None:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                raise StackError(f"port {self.port} on 127.0.0.1 is already in use")

    def check_alive(self) -> None:
        """Raise naming the first component that exited, with the tail of its log."""
        for name, process in self.processes.items():
            if process.poll() is not None:
                log = self.log_dir / f"{name}.log"
                raise StackError(f"{name} exited with code {process.returncode}; {log}:\n{_tail(log)}")

    def health(self) -> dict | None:
        try:
            with urllib.request.urlopen(f"{self.base_url}/api/v2/monitor/health", timeout=5) as response:
                return json.loads(response.read())
        except (OSError, ValueError):
            return None

    def wait_healthy(self, components=("metadatabase", "scheduler", "triggerer", "dag_processor")) -> dict:
        """Wait until the API server answers its health endpoint and reports the components healthy."""
        deadline = time.monotonic() + self.startup_timeout
        health = None
        while time.monotonic() < deadline:
            self.check_alive()
            health = self.health()
            if health and all((health.get(c) or {}).get("status") == "healthy" for c in components):
                return health
            time.sleep(1)
        raise StackError(f"not healthy within {self.startup_timeout:.0f} s at {self.base_url}/api/v2/monitor/health: "
                         f"{health or 'no answer'}; logs in {self.log_dir}")

    def stop(self) -> list[int]:
        """Stop every process of the stack; returns the pids still alive afterwards (none, normally)."""
        for name in reversed(list(self.processes)):
            self._signal_group(self.processes[name], signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        # the group leaders exit first; whatever is left of a group, or left its group, is killed
        for process in self.processes.values():
            self._signal_group(process, signal.SIGKILL)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        leftovers = self._sweep()
        for log in self._log_files:
            log.close()
        self._log_files.clear()
        return leftovers

    @staticmethod
    def _signal_group(process: subprocess.Popen, sig: int) -> None:
        try:
            os.killpg(process.pid, sig)  # start_new_session: the group id is the leader's pid
        except (ProcessLookupError, PermissionError):
            pass

    def _sweep(self) -> list[int]:
        for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            pids = _pids_with_stack_id(self.stack_id)
            if not pids:
                return []
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except (ProcessLookupError, PermissionError):
                    pass
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline and _pids_with_stack_id(self.stack_id):
                time.sleep(0.2)
        return _pids_with_stack_id(self.stack_id)

    def alive_pids(self) -> list[int]:
        """Processes of this stack still alive: the started ones and anything carrying its id."""
        started = [p.pid for p in self.processes.values() if p.poll() is None]
        return sorted(set(started) | set(_pids_with_stack_id(self.stack_id)))

    # -- using it ------------------------------------------------------------------------------

    def airflow(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        """An ``airflow`` CLI command against this stack's metadata database; raises on failure."""
        result = subprocess.run([str(self.bin / "airflow"), *args], env=self.env, cwd=PROJECT_ROOT,
                                capture_output=True, text=True, timeout=timeout)
        if result.returncode:
            raise StackError(f"airflow {' '.join(args)} failed (exit {result.returncode}):\n"
                             f"{(result.stdout + result.stderr)[-4000:]}")
        return result

    def token(self) -> str:
        """A JWT for the REST API from the SimpleAuthManager's token endpoint (POST /auth/token)."""
        body = json.dumps({"username": ADMIN_USER, "password": self.admin_password}).encode()
        request = urllib.request.Request(f"{self.base_url}/auth/token", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())["access_token"]

    def api(self, method: str, path: str, body: dict | None = None) -> dict:
        """Call the REST API with a bearer token; raises StackError with the answer on a 4xx/5xx."""
        if self._token is None:
            self._token = self.token()
        request = urllib.request.Request(
            f"{self.base_url}{path}", method=method, data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self._token}", "Content-Type": "application/json",
                     "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            raise StackError(f"{method} {path} answered {error.code}: "
                             f"{error.read().decode(errors='replace')[:2000]}") from None
        return json.loads(raw) if raw else {}


# -- command line --------------------------------------------------------------------------------

def _up(args) -> int:
    stop = {"signal": None}

    def on_signal(signum, _frame):
        if stop["signal"] is None:  # the first signal stops the stack; later ones let the stop finish
            stop["signal"] = signum
            raise KeyboardInterrupt

    # SIGINT too: a shell starts background jobs with SIGINT ignored, and Python then keeps it so
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    stack = NativeStack(args.home, args.metadata_url, args.warehouse_url, args.broker_url, args.port,
                        report_dir=args.report_dir, admin_password=args.admin_password or
                        os.environ.get("PLR_AIRFLOW_ADMIN_PASSWORD"), worker_concurrency=args.concurrency,
                        schedule=not args.no_schedule)
    print(f"Starting Airflow (CeleryExecutor) in {stack.home}; component logs in {stack.log_dir}", flush=True)
    try:
        stack.start()
        print(f"""
Airflow is up: {stack.base_url}  (user {ADMIN_USER}, password {stack.admin_password})
  metadata  {stack.metadata_url}
  warehouse {stack.env['PLR_DATABASE_URL']}
  broker    {stack.env['AIRFLOW__CELERY__BROKER_URL']}, {stack.worker_concurrency} worker slots

Open {stack.base_url}, log in, unpause post_loan_review and press Trigger (review_date, dry_run,
policy). Or through the REST API:
  TOKEN=$(curl -s -X POST {stack.base_url}/auth/token -H 'Content-Type: application/json' \\
          -d '{{"username": "{ADMIN_USER}", "password": "{stack.admin_password}"}}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  curl -s -X PATCH {stack.base_url}/api/v2/dags/post_loan_review -H "Authorization: Bearer $TOKEN" \\
       -H 'Content-Type: application/json' -d '{{"is_paused": false}}'
  curl -s -X POST {stack.base_url}/api/v2/dags/post_loan_review/dagRuns -H "Authorization: Bearer $TOKEN" \\
       -H 'Content-Type: application/json' -d '{{"logical_date": null, "conf": {{"review_date": "2026-11-27"}}}}'
Backfill 24-26 November (the window in +08:00: the runs are at 02:00 Asia/Shanghai):
  curl -s -X POST {stack.base_url}/api/v2/backfills -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
       -d '{{"dag_id": "post_loan_review", "from_date": "2026-11-24T00:00:00+08:00", "to_date": "2026-11-26T23:59:59+08:00", "max_active_runs": 1}}'
Ctrl-C stops every process.""", flush=True)
        while True:
            stack.check_alive()
            time.sleep(2)
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
        return 0
    except StackError as error:
        print(f"native stack: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        left = stack.stop()
        print("stopped every process" if not left else f"could not stop pids {left}", flush=True)


def _createdb(args) -> int:
    for url in args.urls:
        name = url.rsplit("/", 1)[-1]
        print(f"database {name}: {'created' if create_database_if_missing(url) else 'exists'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    top = argparse.ArgumentParser(prog="native_stack.py", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = top.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start the stack in the foreground until Ctrl-C")
    up.add_argument("--home", default=os.environ.get("PLR_PROD_AIRFLOW_HOME", str(DEFAULT_HOME)))
    up.add_argument("--metadata-url", default=DEFAULT_METADATA_URL)
    up.add_argument("--warehouse-url", default=DEFAULT_WAREHOUSE_URL)
    up.add_argument("--broker-url", default=DEFAULT_BROKER_URL)
    up.add_argument("--port", type=int, default=8080)
    up.add_argument("--report-dir", default=None, help="PLR_REPORT_DIR for the tasks (default: inherited)")
    up.add_argument("--admin-password", default=None,
                    help="password of user admin (default: PLR_AIRFLOW_ADMIN_PASSWORD, else a new one per run)")
    up.add_argument("--concurrency", type=int, default=2, help="Celery worker slots")
    up.add_argument("--no-schedule", action="store_true", help="create no scheduled runs (manual and backfill only)")
    up.set_defaults(run=_up)
    createdb = commands.add_parser("createdb", help="create PostgreSQL databases unless they exist")
    createdb.add_argument("urls", nargs="+")
    createdb.set_defaults(run=_createdb)
    args = top.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
