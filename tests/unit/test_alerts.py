"""Failures are seen: a failed attempt is recorded once however often the callback fires, an
alert is posted once, and a broken alert channel never raises out of a callback."""

import http.server
import json
import threading
from datetime import date
from types import SimpleNamespace

from checks import scalar

from post_loan_review import alerts, callbacks


def test_a_failure_is_recorded_once_and_alerted_once(warehouse, monkeypatch):
    received = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("PLR_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{server.server_port}/alerts")
    ti = SimpleNamespace(dag_id="post_loan_review", run_id="scheduled__2026-11-27", task_id="apply_limit_changes",
                         try_number=1)
    context = {"ti": ti, "params": {"review_date": "2026-11-27"}, "exception": RuntimeError("disk full")}
    callbacks.task_failed(context)
    callbacks.task_failed(context)  # Airflow may call a callback again
    server.shutdown()
    assert scalar(warehouse, "select count(*) from run_failures") == 1
    assert scalar(warehouse, "select error from run_failures") == "disk full"
    assert len(received) == 1 and received[0]["task_id"] == "apply_limit_changes"
    assert received[0]["review_date"] == "2026-11-27"


def test_a_broken_alert_channel_or_warehouse_never_raises(warehouse, monkeypatch):
    monkeypatch.setenv("PLR_ALERT_WEBHOOK_URL", "http://127.0.0.1:9/nothing-listens-here")
    assert alerts.record_failure("d", "r", "t", 1, "boom", date(2026, 11, 27)) is True
    monkeypatch.setenv("PLR_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert alerts.record_failure("d", "r2", "t", 1, "boom") is True  # logged, not raised


def test_a_failed_run_is_recorded_as_a_failure_of_the_run(warehouse):
    run = SimpleNamespace(dag_id="post_loan_review", run_id="scheduled__2026-11-27")
    callbacks.run_failed({"dag_run": run, "reason": "timed_out"})
    assert scalar(warehouse, "select task_id || ':' || error from run_failures") == "dag_run:timed_out"
