"""The notification senders: every delivery carries the notification key so the receiver can
deduplicate (file name, Idempotency-Key header, Message-ID); a refusal raises; the sender is
chosen from plain settings (environment, or an Airflow connection's fields passed in by the DAG)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from post_loan_review import dispatch
from post_loan_review.dispatch import DeliveryError, FileSink, SmtpSender, WebhookSender

NOTICE = {"notification_key": "2026-11-27:100000042:app", "account_id": 100000042, "review_date": "2026-11-27",
          "channel": "app", "language": "zh-CN", "action": "DECREASE", "title": "您的信用额度已调整",
          "body": "尊敬的用户，您的信用额度由3000.00元调整为2393.00元。"}


@pytest.fixture
def receiver():
    """A webhook receiver on 127.0.0.1 (a free port) that records each request and answers with
    ``server.answer`` (200 unless a test changes it)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            self.server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            status, location = self.server.answer
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.requests, server.answer = [], (200, None)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def url_of(server, path="/notices") -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def test_the_webhook_posts_json_with_the_key_as_idempotency_key(receiver):
    sender = WebhookSender(url_of(receiver), timeout=5, headers={"Authorization": "Bearer s3cret"})
    sender.send(NOTICE)
    sender.send(NOTICE)  # a repeated delivery carries the same key: the receiver can drop it
    assert len(receiver.requests) == 2
    for request in receiver.requests:
        assert request["path"] == "/notices"
        assert request["headers"]["Idempotency-Key"] == NOTICE["notification_key"]
        assert request["headers"]["Authorization"] == "Bearer s3cret"
        assert request["headers"]["Content-Type"].startswith("application/json")
        assert json.loads(request["body"].decode("utf-8")) == NOTICE
    assert "s3cret" not in repr(sender)


@pytest.mark.parametrize("answer", [(500, None), (404, None), (302, "/elsewhere")])
def test_a_webhook_answer_other_than_2xx_raises(receiver, answer):
    receiver.answer = answer
    with pytest.raises(DeliveryError, match=f"HTTP {answer[0]}"):
        WebhookSender(url_of(receiver), timeout=5).send(NOTICE)
    assert len(receiver.requests) == 1  # a redirect is not followed (it would turn the POST into a GET)


def test_an_unreachable_webhook_raises(receiver):
    port = receiver.server_address[1]
    receiver.shutdown()
    receiver.server_close()
    with pytest.raises(OSError):
        WebhookSender(f"http://127.0.0.1:{port}/", timeout=2).send(NOTICE)


def test_the_file_sink_keeps_exactly_one_delivery_per_key(tmp_path):
    sink = FileSink(tmp_path / "outbox")
    sink.send(NOTICE)
    sink.send({**NOTICE, "title": "again"})  # a repeated delivery replaces, never appends
    sink.flush()
    assert [p.name for p in (tmp_path / "outbox").iterdir()] == [f"{NOTICE['notification_key']}.json"]
    assert json.loads((tmp_path / "outbox" / f"{NOTICE['notification_key']}.json").read_text("utf-8"))["title"] == "again"
    with pytest.raises(ValueError):
        sink.send({**NOTICE, "notification_key": "../escape"})


class FakeSmtp:
    instances: list["FakeSmtp"] = []

    def __init__(self, host, port, timeout):
        self.address, self.sent, self.logged_in = (host, port), [], None
        FakeSmtp.instances.append(self)

    def ehlo(self):
        pass

    def has_extn(self, name):
        return False

    def login(self, user, password):
        self.logged_in = user

    def send_message(self, message):
        self.sent.append(message)

    def quit(self):
        pass


def test_smtp_mails_carry_a_message_id_derived_from_the_key(monkeypatch):
    import smtplib

    FakeSmtp.instances = []
    monkeypatch.setattr(smtplib, "SMTP", FakeSmtp)
    sender = SmtpSender("mail.example", 587, "plr", "pw", "notices@bank.example",
                        dispatch.address_template("{account_id}@customers.example"))
    sender.send(NOTICE)
    sender.send(NOTICE)
    sender.close()
    assert len(FakeSmtp.instances) == 1 and FakeSmtp.instances[0].logged_in == "plr"  # one connection
    first, second = FakeSmtp.instances[0].sent
    assert first["Message-ID"] == second["Message-ID"] == "<2026-11-27.100000042.app@bank.example>"
    assert first["To"] == "100000042@customers.example" and first["Subject"] == NOTICE["title"]
    assert first["X-PLR-Notification-Key"] == NOTICE["notification_key"]
    assert first.get_content().strip() == NOTICE["body"]


def test_the_sender_is_chosen_from_the_environment(tmp_path):
    assert dispatch.sender_kind({}) == "file"
    sink = dispatch.sender_from_env({"PLR_NOTIFY_DIR": str(tmp_path)})
    assert isinstance(sink, FileSink) and sink.directory == tmp_path
    webhook = dispatch.sender_from_env({"PLR_NOTIFY_SENDER": "webhook", "PLR_NOTIFY_WEBHOOK_URL": "https://h.example/n",
                                        "PLR_NOTIFY_WEBHOOK_HEADERS": '{"X-Team": "risk"}'})
    assert isinstance(webhook, WebhookSender) and webhook.headers == {"X-Team": "risk"}
    smtp = dispatch.sender_from_env({"PLR_NOTIFY_SENDER": "smtp", "PLR_NOTIFY_SMTP_URL": "smtps://u:p%40ss@mx.example",
                                     "PLR_NOTIFY_SMTP_FROM": "n@bank.example", "PLR_NOTIFY_SMTP_TO": "{account_id}@c.example"})
    assert (smtp.host, smtp.port, smtp.login, smtp.password, smtp.use_ssl) == ("mx.example", 465, "u", "p@ss", True)
    with pytest.raises(ValueError, match="PLR_NOTIFY_SENDER"):
        dispatch.sender_kind({"PLR_NOTIFY_SENDER": "pigeon"})
    with pytest.raises(ValueError, match="PLR_NOTIFY_WEBHOOK_URL"):
        dispatch.sender_from_env({"PLR_NOTIFY_SENDER": "webhook"})


def test_settings_from_the_fields_of_an_airflow_connection():
    webhook = dispatch.settings_from_connection("webhook", host="hooks.bank.example", schema="https", port=8443,
                                                password="tok", extra={"endpoint": "/plr/notices", "timeout": 3})
    assert webhook == {"url": "https://hooks.bank.example:8443/plr/notices", "timeout": 3.0,
                       "headers": {"Authorization": "Bearer tok"}}
    assert dispatch.settings_from_connection("webhook", host="https://h.example/x")["url"] == "https://h.example/x"
    smtp = dispatch.settings_from_connection("smtp", host="mx.example", port=None, login="u", password="p",
                                             extra={"from_addr": "n@bank.example", "to_addr_template": "{account_id}@c.example"})
    assert smtp["port"] == 587 and smtp["starttls"] is True
    assert isinstance(dispatch.build_sender("smtp", smtp), SmtpSender)
    with pytest.raises(ValueError, match="to_addr_template"):
        dispatch.settings_from_connection("smtp", host="mx.example", extra={"from_addr": "n@bank.example"})
