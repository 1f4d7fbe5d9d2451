"""A real Airflow API server for the report viewer's tests: SQLite metadata in a throwaway
AIRFLOW_HOME, our dags/ and plugins/, the SimpleAuthManager with known users, after one real run of
post_loan_review (``airflow dags test`` on a small portfolio) and one run that never started.
Everything runs on loopback; the server is stopped by its process group."""

from __future__ import annotations

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
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
REVIEW_DATE = "2026-11-27"
# name: role ("" = a user the auth manager knows but grants nothing)
USERS = {"admin": "admin", "reviewer": "viewer", "outsider": ""}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class ReportViewerServer:
    home: Path
    report_dir: Path
    warehouse_url: str
    port: int = field(default_factory=free_port)
    passwords: dict[str, str] = field(default_factory=lambda: {name: secrets.token_urlsafe(12) for name in USERS})
    process: subprocess.Popen | None = None
    finished_run_id: str = ""
    pending_run_id: str = ""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.home / "api-server.log"

    def environment(self) -> dict[str, str]:
        # nothing Airflow-related leaks in from the caller (the Makefile exports its own setup)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env.update({
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}",
            "AIRFLOW__CORE__AUTH_MANAGER":
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{u}:{r}" for u, r in USERS.items()),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.home / "passwords.json"),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__BASE_URL": self.base_url,
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "PLR_DATABASE_URL": self.warehouse_url,
            "PLR_REPORT_DIR": str(self.report_dir),
            "GX_ANALYTICS_ENABLED": "false",
        })
        return env

    def airflow(self, *args: str, timeout: float = 600) -> str:
        result = subprocess.run([AIRFLOW, *args], env=self.environment(), cwd=PROJECT_ROOT, capture_output=True,
                                text=True, timeout=timeout)
        output = result.stdout + result.stderr
        assert result.returncode == 0, f"airflow {' '.join(args)} failed:\n{output[-4000:]}"
        return output

    def prepare(self) -> None:
        """Metadata, the users' passwords, one finished review run and one that never started."""
        self.home.mkdir(parents=True, exist_ok=True)
        passwords = self.home / "passwords.json"
        passwords.write_text(json.dumps(self.passwords), encoding="utf-8")
        passwords.chmod(0o600)
        self.airflow("db", "migrate")
        output = self.airflow("dags", "test", "post_loan_review", f"{REVIEW_DATE}T00:00:00+00:00",
                              "--conf", json.dumps({"review_date": REVIEW_DATE}))
        assert "state=failed" not in output.lower(), output[-4000:]
        # triggered with no scheduler running: a queued run whose build_report never ran
        self.airflow("dags", "trigger", "post_loan_review", "--run-id", "manual__waiting",
                     "--conf", json.dumps({"review_date": REVIEW_DATE, "dry_run": True}))
        self.pending_run_id = "manual__waiting"

    def start(self, timeout: float = 120) -> None:
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [AIRFLOW, "api-server", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"],
            env=self.environment(), cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)  # its own process group: stopped whole, workers included
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"airflow api-server exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/api/v2/monitor/health", timeout=5):
                    break
            except (OSError, ValueError):
                time.sleep(1)
        else:
            raise RuntimeError(f"airflow api-server did not answer within {timeout:.0f} s:\n{self.log_tail()}")
        runs = self.api("GET", "/api/v2/dags/post_loan_review/dagRuns", token=self.token("admin"))["dag_runs"]
        self.finished_run_id = next(r["dag_run_id"] for r in runs if r["dag_run_id"] != self.pending_run_id)

    def stop(self) -> None:
        if self.process is None:
            return
        for sig, grace in ((signal.SIGTERM, 20), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.process.pid, sig)
            except (ProcessLookupError, PermissionError):
                break
            try:
                self.process.wait(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                continue

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
        except OSError as error:
            return f"(no log: {error})"

    def token(self, user: str) -> str:
        """A JWT from the SimpleAuthManager's token endpoint, as any API client gets one."""
        body = json.dumps({"username": user, "password": self.passwords[user]}).encode()
        request = urllib.request.Request(f"{self.base_url}/auth/token", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())["access_token"]

    def api(self, method: str, path: str, token: str) -> dict:
        request = urllib.request.Request(f"{self.base_url}{path}", method=method,
                                         headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())
