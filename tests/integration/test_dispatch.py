"""Notifications take effect once: the outbox of a real review is delivered at least once and
deduplicated by key. Delivered once to a file sink, retried after an exponential backoff, parked
as dead letters, and a dispatcher killed between sending and acknowledging (a subprocess dying at a
failpoint) whose re-run leaves exactly one delivery per key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
from checks import scalar
from conftest import SECOND_DATE, load_portfolio

from post_loan_review import dispatch, stages
from post_loan_review.dispatch import FileSink, backoff, dispatch_notifications
from post_loan_review.failpoints import CRASH_EXIT_CODE

PLR = str(Path(sys.executable).with_name("plr"))
T0 = datetime(2026, 11, 28, 3, 0, tzinfo=timezone.utc)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = T0):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class Counting:
    """Wraps a sender; counts the deliveries it accepted per key."""

    def __init__(self, inner, fail=lambda notification, attempt: None):
        self.inner, self.fail, self.tries, self.accepted = inner, fail, {}, {}

    def send(self, notification: dict) -> None:
        key = notification["notification_key"]
        self.tries[key] = self.tries.get(key, 0) + 1
        self.fail(notification, self.tries[key])
        self.inner.send(notification)
        self.accepted[key] = self.accepted.get(key, 0) + 1


def queued_outbox(engine) -> set[str]:
    """Load a portfolio, review SECOND_DATE for real; the keys it queued."""
    load_portfolio(engine)
    stages.review(SECOND_DATE)
    keys = set(outbox_rows(engine)["notification_key"])
    assert len(keys) > 100 and scalar(engine, "select count(*) from notifications where status <> 'queued'") == 0
    return keys


def outbox_rows(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql("select * from notifications order by notification_key", conn)


def deliveries(directory: Path) -> dict[str, dict]:
    """The file sink's content by key; nothing but one ``<key>.json`` per key may be there."""
    names = sorted(p.name for p in directory.iterdir())
    assert all(name.endswith(".json") and not name.startswith(".") for name in names), names
    return {name.removesuffix(".json"): json.loads((directory / name).read_text(encoding="utf-8")) for name in names}


def test_every_queued_notice_is_delivered_once_and_a_rerun_of_the_review_sends_nothing_new(any_warehouse, tmp_path):
    keys = queued_outbox(any_warehouse)
    clock = Clock()
    sink = Counting(FileSink(tmp_path / "outbox"))
    result = dispatch_notifications(any_warehouse, sink, clock, batch_size=50)
    assert result == {"sent": len(keys), "failed": 0, "dead_lettered": 0, "batches": -(-len(keys) // 50),
                      "remaining": 0}
    assert set(sink.accepted) == keys and set(sink.accepted.values()) == {1}

    files = deliveries(tmp_path / "outbox")
    rows = outbox_rows(any_warehouse).set_index("notification_key")
    assert set(files) == keys
    assert set(rows["status"]) == {"sent"} and (rows["attempts"] == 0).all() and rows["last_error"].isna().all()
    assert (pd.to_datetime(rows["sent_at"]) == T0.replace(tzinfo=None)).all()
    some = sorted(keys)[7]
    assert files[some] == {"notification_key": some, "account_id": int(rows.loc[some, "account_id"]),
                           "review_date": SECOND_DATE.isoformat(), "channel": rows.loc[some, "channel"],
                           "language": rows.loc[some, "language"], "action": rows.loc[some, "action"],
                           "title": rows.loc[some, "title"], "body": rows.loc[some, "body"]}

    # nothing is due any more; a re-run of the date queues nothing and nothing is sent again
    clock.advance(timedelta(days=1))
    assert dispatch_notifications(any_warehouse, sink, clock)["sent"] == 0
    stages.review(SECOND_DATE)
    assert scalar(any_warehouse, "select count(*) from notifications") == len(keys)
    assert dispatch_notifications(any_warehouse, sink, clock) == {"sent": 0, "failed": 0, "dead_lettered": 0,
                                                                  "batches": 0, "remaining": 0}
    assert set(sink.accepted.values()) == {1} and set(deliveries(tmp_path / "outbox")) == keys


def test_a_flaky_receiver_is_retried_after_the_backoff_and_gets_each_notice_once(warehouse, tmp_path):
    keys = queued_outbox(warehouse)

    def first_try_fails_for_every_fourth_account(notification, attempt):
        if notification["account_id"] % 4 == 0 and attempt == 1:
            raise TimeoutError("receiver busy")

    flaky = {k for k in keys if int(k.split(":")[1]) % 4 == 0}
    assert 0 < len(flaky) < len(keys)
    clock = Clock()
    sender = Counting(FileSink(tmp_path / "outbox"), first_try_fails_for_every_fourth_account)
    first = dispatch_notifications(warehouse, sender, clock, batch_size=64)
    assert (first["sent"], first["failed"], first["dead_lettered"], first["remaining"]) == \
           (len(keys) - len(flaky), len(flaky), 0, len(flaky))
    rows = outbox_rows(warehouse).set_index("notification_key")
    waiting = rows.loc[sorted(flaky)]
    assert set(waiting["status"]) == {"queued"} and (waiting["attempts"] == 1).all()
    assert (waiting["last_error"] == "TimeoutError: receiver busy").all()
    assert (pd.to_datetime(waiting["last_attempt_at"]) == T0.replace(tzinfo=None)).all()

    # after one failure the backoff is 1 min × 2^1: not a second earlier
    clock.advance(backoff(1) - timedelta(seconds=1))
    assert dispatch_notifications(warehouse, sender, clock)["batches"] == 0
    clock.advance(timedelta(seconds=1))
    second = dispatch_notifications(warehouse, sender, clock)
    assert (second["sent"], second["failed"], second["remaining"]) == (len(flaky), 0, 0)

    assert set(sender.accepted) == keys and set(sender.accepted.values()) == {1}
    assert set(deliveries(tmp_path / "outbox")) == keys
    rows = outbox_rows(warehouse).set_index("notification_key")
    assert set(rows["status"]) == {"sent"}
    assert rows["attempts"].to_dict() == {k: int(k in flaky) for k in keys}
    assert (pd.to_datetime(rows.loc[sorted(flaky), "sent_at"]) == (clock.now.replace(tzinfo=None))).all()
    assert (rows.loc[sorted(flaky), "last_error"] == "TimeoutError: receiver busy").all()  # the history stays


def test_a_receiver_that_always_fails_parks_every_notice_as_a_dead_letter(warehouse, tmp_path):
    keys = queued_outbox(warehouse)

    def down(notification, attempt):
        raise ConnectionRefusedError("receiver down")

    clock = Clock()
    sender = Counting(FileSink(tmp_path / "outbox"), down)
    results = []
    for attempts in range(3):  # three tries, each exactly when the backoff allows
        if attempts:
            clock.advance(backoff(attempts) - timedelta(seconds=1))
            assert dispatch_notifications(warehouse, sender, clock, max_attempts=3)["batches"] == 0
            clock.advance(timedelta(seconds=1))
        results.append(dispatch_notifications(warehouse, sender, clock, max_attempts=3))
    assert [r["failed"] for r in results] == [len(keys)] * 3
    assert [r["dead_lettered"] for r in results] == [0, 0, len(keys)]
    assert [r["remaining"] for r in results] == [len(keys), len(keys), 0]

    rows = outbox_rows(warehouse)
    assert set(rows["status"]) == {"dead_letter"} and (rows["attempts"] == 3).all()
    assert (rows["last_error"] == "ConnectionRefusedError: receiver down").all()
    assert rows["sent_at"].isna().all() and not (tmp_path / "outbox").exists()

    clock.advance(timedelta(days=30))  # a dead letter is never tried again
    assert dispatch_notifications(warehouse, sender, clock, max_attempts=3)["batches"] == 0
    assert set(sender.tries.values()) == {3}


def test_a_dispatcher_killed_between_send_and_acknowledgement_delivers_each_key_exactly_once(warehouse, tmp_path):
    keys = queued_outbox(warehouse)
    outbox = tmp_path / "outbox"
    script = ("from post_loan_review import dispatch as d; "
              f"d.dispatch_notifications(None, d.FileSink({str(outbox)!r}), d.system_clock, batch_size=10)")
    env = {**os.environ, "PLR_FAILPOINT": "dispatch_after_send:25"}
    killed = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert killed.returncode == CRASH_EXIT_CODE, killed.stderr[-2000:]

    # 25 notices reached the receiver, but only the first two batches of 10 were acknowledged
    assert len(deliveries(outbox)) == 25
    rows = outbox_rows(warehouse)
    assert (rows["status"] == "sent").sum() == 20 and (rows["status"] == "queued").sum() == len(keys) - 20

    again = Counting(FileSink(outbox))
    result = dispatch_notifications(warehouse, again, dispatch.system_clock, batch_size=10)
    assert result["sent"] == len(keys) - 20 and result["remaining"] == 0
    assert set(again.accepted.values()) == {1} and len(again.accepted) == len(keys) - 20  # 5 sent twice in all
    files = deliveries(outbox)
    assert set(files) == keys and all(files[k]["notification_key"] == k for k in keys)
    assert set(outbox_rows(warehouse)["status"]) == {"sent"}


def test_plr_dispatch_delivers_to_the_configured_directory(warehouse, tmp_path):
    keys = queued_outbox(warehouse)
    env = {**os.environ, "PLR_NOTIFY_SENDER": "file", "PLR_NOTIFY_DIR": str(tmp_path / "cli-outbox")}
    env.pop("PLR_FAILPOINT", None)
    one = subprocess.run([PLR, "dispatch", "--max-batches", "1"], env=env, capture_output=True, text=True, timeout=300)
    assert one.returncode == 0, one.stderr
    assert f"sent {min(500, len(keys))}" in one.stdout
    rest = subprocess.run([PLR, "dispatch"], env=env, capture_output=True, text=True, timeout=300)
    assert rest.returncode == 0, rest.stderr
    assert "still queued 0" in rest.stdout
    assert set(deliveries(tmp_path / "cli-outbox")) == keys
    assert set(outbox_rows(warehouse)["status"]) == {"sent"}
