"""notification_dispatch: deliver the ``notifications`` outbox **at least once**; receivers
deduplicate by ``notification_key``.

The dispatcher claims a batch of due ``queued`` rows (never tried, or failed ``attempts`` times and
past their backoff of ``backoff_base × 2^attempts``), sends each through a pluggable sender and then
acknowledges the whole batch in one small transaction: ``sent`` (with ``sent_at``) for each message
the sender accepted; one more attempt, its time and error for each it refused, and ``dead_letter``
once the attempts reach ``max_attempts``. A row is marked sent only after the sender returned, so a
process that dies between sending and acknowledging sends those messages again on its next run:
a duplicate, never a loss. That is why every sender carries the key (the file name, an
``Idempotency-Key`` header, a Message-ID) for the receiver to deduplicate.

One dispatcher at a time is the intended setup (the DAG has ``max_active_runs=1``); two at once
stay correct (a row keeps its first acknowledgement) but may send a message twice.

Senders (``PLR_NOTIFY_SENDER``): ``file`` (default; one JSON file per notification in
``PLR_NOTIFY_DIR``, default ``.local/outbox``), ``webhook`` and ``smtp``. In Airflow their
settings come from the connections ``plr_notify_webhook`` / ``plr_notify_smtp``, read by the task
and passed here as plain values (``settings_from_connection``); ``plr dispatch`` reads them from
``PLR_NOTIFY_WEBHOOK_URL`` (+ ``PLR_NOTIFY_WEBHOOK_HEADERS``, a JSON object) or
``PLR_NOTIFY_SMTP_URL`` (``smtp[s]://login:password@host:port``) + ``PLR_NOTIFY_SMTP_FROM`` +
``PLR_NOTIFY_SMTP_TO`` (an address template such as ``{account_id}@example.com``).

Failpoint (tests only): ``PLR_FAILPOINT=dispatch_after_send:<n>`` makes the process die
(``os._exit(137)``) right after the sender returned for the n-th message, before the batch is
acknowledged (see ``failpoints.py``).

Timestamps are UTC, from the ``clock`` the caller passes in (they are audit data of deliveries);
nothing else here reads the time of day.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, ContextManager, Mapping, Protocol

from sqlalchemy import Connection, Date, DateTime, Engine, bindparam, text
from sqlalchemy.sql.elements import TextClause

from post_loan_review import db
from post_loan_review.config import LOCAL_DIR
from post_loan_review.failpoints import failpoint

SENDER_KINDS = ("file", "webhook", "smtp")
CONNECTION_IDS = {"webhook": "plr_notify_webhook", "smtp": "plr_notify_smtp"}
DEFAULT_OUTBOX_DIR = LOCAL_DIR / "outbox"
BACKOFF_BASE = timedelta(minutes=1)
ERROR_TEXT_LIMIT = 2000

Clock = Callable[[], datetime]


class Sender(Protocol):
    """Delivers one notification or raises. Optional: ``flush()`` (called once per batch before
    the batch is acknowledged) and ``close()`` (called when the dispatcher is done)."""

    def send(self, notification: dict) -> None: ...


class DeliveryError(RuntimeError):
    """The receiver did not accept a notification."""


def system_clock() -> datetime:
    """The wall clock in UTC: the time stamped on delivery attempts."""
    return datetime.now(timezone.utc)


def backoff(attempts: int, base: timedelta = BACKOFF_BASE) -> timedelta:
    """How long a row that failed ``attempts`` times waits after its last attempt."""
    return base * (2 ** attempts)


def _utc(moment: datetime) -> datetime:
    """A naive UTC datetime, as the ``timestamp`` columns hold it."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


# --- the outbox -------------------------------------------------------------------------------

def _statement(name: str, params: Mapping[str, Any]) -> TextClause:
    """``sql/<name>.sql`` with datetimes bound as timestamps and dates as dates on every database
    (``db.statement`` binds every ``date``, datetimes included, as a SQL date)."""
    clause = text(db.load_sql(name))
    typed = [bindparam(key, type_=DateTime() if isinstance(value, datetime) else Date())
             for key, value in params.items() if isinstance(value, date) and key in clause._bindparams]
    return clause.bindparams(*typed)


def _transactions(target: Engine | Callable[[], ContextManager[Connection]] | None):
    """A function that opens one transaction: ``engine.begin`` of an engine, a given factory, or
    the warehouse of ``PLR_DATABASE_URL``."""
    if target is None:
        return db.engine().begin
    if isinstance(target, Engine):
        return target.begin
    return target


def _claim(conn: Connection, now: datetime, batch_size: int, max_attempts: int,
           backoff_base: timedelta) -> list[dict]:
    """Up to ``batch_size`` due queued rows, retries first (one query per attempts value)."""
    batch: list[dict] = []
    for attempts in reversed(range(max_attempts)):
        if len(batch) >= batch_size:
            break
        params = {"attempts": attempts, "due_before": _utc(now - backoff(attempts, backoff_base)),
                  "batch_size": batch_size - len(batch)}
        rows = conn.execute(_statement("notify/due_notifications", params).columns(review_date=Date), params)
        batch.extend(dict(row) for row in rows.mappings())
    return batch


def _payload(row: Mapping[str, Any]) -> dict:
    """What a sender gets: the notice and its key, JSON-able; identical on every delivery."""
    return {
        "notification_key": row["notification_key"],
        "account_id": int(row["account_id"]),
        "review_date": row["review_date"].isoformat(),
        "channel": row["channel"],
        "language": row["language"],
        "action": row["action"],
        "title": row["title"],
        "body": row["body"],
    }


def _acknowledge(conn: Connection, delivered: list[dict], failures: list[dict], max_attempts: int) -> None:
    if delivered:
        conn.execute(_statement("notify/mark_sent", delivered[0]), delivered)
    if failures:
        params = [{**failure, "max_attempts": max_attempts} for failure in failures]
        conn.execute(_statement("notify/record_failure", params[0]), params)


def remaining(conn: Connection, max_attempts: int = 5) -> int:
    """Queued notifications still to deliver, due now or after their backoff."""
    return int(conn.execute(_statement("notify/queued_count", {}), {"max_attempts": max_attempts}).scalar())


def dispatch_notifications(engine: Engine | Callable[[], ContextManager[Connection]] | None, sender: Sender,
                           clock: Clock, batch_size: int = 500, max_attempts: int = 5, *,
                           max_batches: int | None = None, time_budget_seconds: float | None = None,
                           backoff_base: timedelta = BACKOFF_BASE) -> dict[str, int]:
    """Deliver due notifications batch after batch until none is due, ``max_batches`` batches are
    done or ``time_budget_seconds`` is used (checked between batches). ``engine`` is an engine,
    a factory of transactions (like ``engine.begin``) or None for the warehouse.

    Counts: ``sent``, ``failed`` (attempts that failed, including those that dead-lettered their
    row), ``dead_lettered``, ``batches`` and ``remaining`` (rows still queued, due or waiting for
    their backoff)."""
    if batch_size < 1 or max_attempts < 1:
        raise ValueError("batch_size and max_attempts must be at least 1")
    begin = _transactions(engine)
    with begin() as conn:
        db.init_db(conn)  # a warehouse of an older schema is refused with the columns it lacks
    started = time.monotonic()
    totals = {"sent": 0, "failed": 0, "dead_lettered": 0, "batches": 0}
    try:
        while max_batches is None or totals["batches"] < max_batches:
            if time_budget_seconds is not None and time.monotonic() - started >= time_budget_seconds:
                break
            with begin() as conn:
                batch = _claim(conn, clock(), batch_size, max_attempts, backoff_base)
            if not batch:
                break
            delivered, failures = [], []
            for row in batch:  # the sending itself is per message; reads and acks are per batch
                try:
                    sender.send(_payload(row))
                except Exception as error:
                    failures.append({"notification_key": row["notification_key"], "attempted_at": _utc(clock()),
                                     "last_error": f"{type(error).__name__}: {error}"[:ERROR_TEXT_LIMIT]})
                    totals["dead_lettered"] += row["attempts"] + 1 >= max_attempts
                    continue
                delivered.append({"notification_key": row["notification_key"], "sent_at": _utc(clock())})
                failpoint("dispatch_after_send")  # sent, not yet acknowledged
            flush = getattr(sender, "flush", None)
            if flush is not None and delivered:
                flush()  # e.g. make the batch's files durable before saying they were delivered
            with begin() as conn:
                _acknowledge(conn, delivered, failures, max_attempts)
            totals["batches"] += 1
            totals["sent"] += len(delivered)
            totals["failed"] += len(failures)
    finally:
        close = getattr(sender, "close", None)
        if close is not None:
            close()
    with begin() as conn:
        totals["remaining"] = remaining(conn, max_attempts)
    return totals


# --- senders ----------------------------------------------------------------------------------

_SAFE_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")


class FileSink:
    """One JSON file per notification in ``directory``, named ``<notification_key>.json``, written
    atomically (a temporary file, then ``os.replace``): a repeated delivery of a key replaces the
    file with the same content, so the directory holds exactly one delivery per key."""

    def __init__(self, directory: str | Path, fsync: bool = True):
        self.directory = Path(directory)
        self.fsync = fsync

    def path_for(self, key: str) -> Path:
        if not _SAFE_KEY.fullmatch(key):
            raise ValueError(f"notification key {key!r} cannot name a file")
        return self.directory / f"{key}.json"

    def send(self, notification: dict) -> None:
        key = notification["notification_key"]
        target = self.path_for(key)
        self.directory.mkdir(parents=True, exist_ok=True)
        data = (json.dumps(notification, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
        handle, temporary = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=self.directory)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                if self.fsync:
                    os.fsync(file.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def flush(self) -> None:
        """Make the batch's renames durable: one fsync of the directory per batch."""
        if self.fsync and self.directory.is_dir() and hasattr(os, "O_DIRECTORY"):
            handle = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(handle)
            finally:
                os.close(handle)

    def __repr__(self) -> str:
        return f"FileSink({str(self.directory)!r})"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a redirected POST would be re-sent as GET
        return None


class WebhookSender:
    """POSTs each notification as JSON to ``url`` with ``Idempotency-Key: <notification_key>``;
    anything but a 2xx answer (redirects included) raises."""

    def __init__(self, url: str, timeout: float = 10.0, headers: Mapping[str, str] | None = None):
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise ValueError("the webhook URL must be http(s)")
        self.url = url
        self.timeout = float(timeout)
        self.headers = dict(headers or {})
        self._opener = urllib.request.build_opener(_NoRedirects)

    def send(self, notification: dict) -> None:
        key = notification["notification_key"]
        request = urllib.request.Request(
            self.url, method="POST",
            data=json.dumps(notification, ensure_ascii=False, sort_keys=True).encode("utf-8"),
            headers={"Content-Type": "application/json; charset=utf-8", **self.headers, "Idempotency-Key": key})
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status = response.status
                response.read()
        except urllib.error.HTTPError as error:
            raise DeliveryError(f"the webhook answered HTTP {error.code} for {key}") from None
        if not 200 <= status < 300:
            raise DeliveryError(f"the webhook answered HTTP {status} for {key}")

    def __repr__(self) -> str:
        parts = urllib.parse.urlsplit(self.url)
        return f"WebhookSender('{parts.scheme}://{parts.hostname}{parts.path}')"  # no credentials


def message_id(key: str, domain: str) -> str:
    """A Message-ID derived from the notification key, so a resent mail is recognised."""
    left = key.replace(":", ".") if re.fullmatch(r"[A-Za-z0-9-]+(:[A-Za-z0-9-]+)*", key) else \
        hashlib.sha256(key.encode("utf-8")).hexdigest()
    return f"<{left}@{domain}>"


class SmtpSender:
    """One mail per notification over one SMTP connection kept across sends (reopened after an
    error); ``to_addr_for(account_id)`` gives the recipient. The Message-ID is derived from the key
    so receivers deduplicate. ``use_ssl`` for SMTPS (port 465), else STARTTLS when offered."""

    def __init__(self, host: str, port: int, login: str | None, password: str | None, from_addr: str,
                 to_addr_for: Callable[[int], str], *, use_ssl: bool = False, starttls: bool = True,
                 timeout: float = 30.0):
        self.host, self.port = host, int(port)
        self.login, self.password = login, password
        self.from_addr, self.to_addr_for = from_addr, to_addr_for
        self.use_ssl, self.starttls, self.timeout = use_ssl, starttls, float(timeout)
        self.domain = from_addr.rpartition("@")[2] or "post-loan-review.local"
        self._smtp = None

    def _connection(self):
        import smtplib
        import ssl

        if self._smtp is None:
            if self.use_ssl:
                smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                        context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
                smtp.ehlo()
                if self.starttls and smtp.has_extn("starttls"):
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
            if self.login:
                smtp.login(self.login, self.password or "")
            self._smtp = smtp
        return self._smtp

    def message(self, notification: dict):
        from email.message import EmailMessage

        message = EmailMessage()
        message["From"] = self.from_addr
        message["To"] = self.to_addr_for(notification["account_id"])
        message["Subject"] = notification["title"]
        message["Message-ID"] = message_id(notification["notification_key"], self.domain)
        message["X-PLR-Notification-Key"] = notification["notification_key"]
        message["Content-Language"] = notification["language"]
        message.set_content(notification["body"])
        return message

    def send(self, notification: dict) -> None:
        message = self.message(notification)
        try:
            self._connection().send_message(message)
        except Exception:
            self.close()  # the next send starts on a fresh connection
            raise

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except Exception:
                smtp.close()

    def __repr__(self) -> str:
        return f"SmtpSender({self.host!r}, {self.port})"


# --- choosing a sender ------------------------------------------------------------------------

def sender_kind(environ: Mapping[str, str] | None = None) -> str:
    """``PLR_NOTIFY_SENDER``: file (the default), webhook or smtp."""
    kind = ((os.environ if environ is None else environ).get("PLR_NOTIFY_SENDER") or "file").strip().lower()
    if kind not in SENDER_KINDS:
        raise ValueError(f"PLR_NOTIFY_SENDER must be one of {', '.join(SENDER_KINDS)}, not {kind!r}")
    return kind


def address_template(template: str) -> Callable[[int], str]:
    """``to_addr_for`` from a template such as ``{account_id}@example.com``."""
    if "{account_id}" not in template:
        raise ValueError("the recipient template must contain {account_id}")
    return lambda account_id: template.format(account_id=account_id)


def settings_from_connection(kind: str, *, host: str | None, schema: str | None = None, port: int | None = None,
                             login: str | None = None, password: str | None = None,
                             extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Sender settings from the plain fields of an Airflow connection (the DAG task reads it).

    webhook (``plr_notify_webhook``): ``host`` is the URL (or a host name, with ``schema`` http or
    https, ``port`` and extra ``endpoint``); extra ``headers`` (an object) and ``timeout``; a
    ``password`` becomes ``Authorization: Bearer <password>`` unless the headers set one.
    smtp (``plr_notify_smtp``): host, port (default 587), login, password; extra ``from_addr``,
    ``to_addr_template`` (``{account_id}@...``), ``use_ssl``, ``starttls``, ``timeout``."""
    extra = dict(extra or {})
    if not host:
        raise ValueError(f"the {kind} connection {CONNECTION_IDS.get(kind, '')} has no host")
    if kind == "webhook":
        if "://" in host:
            url = host
        else:
            url = f"{schema or 'https'}://{host}{f':{port}' if port else ''}"
        if extra.get("endpoint"):
            url = url.rstrip("/") + "/" + str(extra["endpoint"]).lstrip("/")
        headers = {str(k): str(v) for k, v in dict(extra.get("headers") or {}).items()}
        if password and not any(name.lower() == "authorization" for name in headers):
            headers["Authorization"] = f"Bearer {password}"
        return {"url": url, "timeout": float(extra.get("timeout", 10)), "headers": headers}
    if kind == "smtp":
        for name in ("from_addr", "to_addr_template"):
            if not extra.get(name):
                raise ValueError(f"the smtp connection {CONNECTION_IDS['smtp']} needs {name!r} in its extra")
        return {"host": host, "port": int(port or 587), "login": login, "password": password,
                "from_addr": extra["from_addr"], "to_addr_template": extra["to_addr_template"],
                "use_ssl": bool(extra.get("use_ssl", False)), "starttls": bool(extra.get("starttls", True)),
                "timeout": float(extra.get("timeout", 30))}
    raise ValueError(f"a {kind} sender takes no connection")


def settings_from_env(kind: str, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Sender settings from environment variables, for ``plr dispatch`` (see the module doc)."""
    env = os.environ if environ is None else environ
    if kind == "file":
        return {"directory": env.get("PLR_NOTIFY_DIR") or str(DEFAULT_OUTBOX_DIR)}
    if kind == "webhook":
        if not env.get("PLR_NOTIFY_WEBHOOK_URL"):
            raise ValueError("PLR_NOTIFY_SENDER=webhook needs PLR_NOTIFY_WEBHOOK_URL")
        headers = json.loads(env.get("PLR_NOTIFY_WEBHOOK_HEADERS") or "{}")
        return {"url": env["PLR_NOTIFY_WEBHOOK_URL"], "headers": headers,
                "timeout": float(env.get("PLR_NOTIFY_TIMEOUT") or 10)}
    if kind == "smtp":
        missing = [name for name in ("PLR_NOTIFY_SMTP_URL", "PLR_NOTIFY_SMTP_FROM", "PLR_NOTIFY_SMTP_TO")
                   if not env.get(name)]
        if missing:
            raise ValueError(f"PLR_NOTIFY_SENDER=smtp needs {', '.join(missing)}")
        url = urllib.parse.urlsplit(env["PLR_NOTIFY_SMTP_URL"])
        if url.scheme not in ("smtp", "smtps"):
            raise ValueError("PLR_NOTIFY_SMTP_URL must be smtp://... or smtps://...")
        return {"host": url.hostname, "port": url.port or (465 if url.scheme == "smtps" else 587),
                "login": urllib.parse.unquote(url.username) if url.username else None,
                "password": urllib.parse.unquote(url.password) if url.password else None,
                "from_addr": env["PLR_NOTIFY_SMTP_FROM"], "to_addr_template": env["PLR_NOTIFY_SMTP_TO"],
                "use_ssl": url.scheme == "smtps", "timeout": float(env.get("PLR_NOTIFY_TIMEOUT") or 30)}
    raise ValueError(f"unknown sender {kind!r}")


def build_sender(kind: str, settings: Mapping[str, Any] | None = None) -> Sender:
    """The sender of ``kind`` from plain settings (``settings_from_connection`` / ``_from_env``)."""
    settings = dict(settings or {})
    if kind == "file":
        return FileSink(settings.get("directory") or DEFAULT_OUTBOX_DIR)
    if kind == "webhook":
        return WebhookSender(settings["url"], settings.get("timeout", 10.0), settings.get("headers"))
    if kind == "smtp":
        return SmtpSender(settings["host"], settings["port"], settings.get("login"), settings.get("password"),
                          settings["from_addr"], address_template(settings["to_addr_template"]),
                          use_ssl=settings.get("use_ssl", False), starttls=settings.get("starttls", True),
                          timeout=settings.get("timeout", 30.0))
    raise ValueError(f"unknown sender {kind!r}; one of {', '.join(SENDER_KINDS)}")


def sender_from_env(environ: Mapping[str, str] | None = None) -> Sender:
    """The sender ``PLR_NOTIFY_SENDER`` names, configured from the environment."""
    kind = sender_kind(environ)
    return build_sender(kind, settings_from_env(kind, environ))
