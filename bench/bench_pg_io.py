"""Benchmark: the two bulk data paths of the warehouse on PostgreSQL, ``db.read_frame`` of
``review/review_inputs`` and ``db.bulk_insert`` into ``staged_decisions``, for one portfolio.

    .venv/bin/python bench/bench_pg_io.py [ACCOUNTS]        (default 1,000,000)

It creates its own database on the server of ``PLR_TEST_POSTGRES_URL`` (default: postgres on
127.0.0.1:5432), fills it with ``plr generate`` and one ``plr review --dry-run`` of the latest
snapshot date (so review_inputs and staged_decisions hold one full run), times the read and a
re-insert of the staged decisions into an empty scratch copy of the table, prints the figures and
drops the database, whatever happened.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_production import bench_database  # a fresh database on PLR_TEST_POSTGRES_URL's server, dropped after

from post_loan_review import db
from post_loan_review.shards import WHOLE_BOOK

PLR = str(Path(sys.executable).with_name("plr"))


def plr(args: list[str], env: dict) -> float:
    """Run one plr command against the bench database; its wall time. Stops the bench on failure."""
    started = time.perf_counter()
    result = subprocess.run([PLR, *args], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"plr {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return time.perf_counter() - started


def timed_read(url: str, params: dict) -> tuple[float, int, int]:
    """Seconds to read the run's review inputs, as reassess does; rows and columns read."""
    with db.engine(url).begin() as conn:
        started = time.perf_counter()
        frame = db.read_frame(conn, "review/review_inputs", params,
                              date_columns=("review_date", "last_decrease_date", "last_increase_date"))
        return time.perf_counter() - started, len(frame), frame.shape[1]


def timed_insert(url: str, params: dict) -> tuple[float, int]:
    """Seconds to bulk-insert the run's staged decisions into an empty copy of the table (rolled
    back, so the bench can be repeated); rows written."""
    with db.engine(url).connect() as conn, conn.begin() as transaction:
        frame = db.read_frame(conn, "bench/staged_decisions", params, date_columns=("review_date",))
        conn.exec_driver_sql("create temporary table bench_staged_decisions "
                             "(like staged_decisions including all)")
        started = time.perf_counter()
        written = db.bulk_insert(conn, "bench_staged_decisions", frame)
        elapsed = time.perf_counter() - started
        transaction.rollback()
        return elapsed, written


def main(accounts: int) -> None:
    with bench_database() as url, tempfile.TemporaryDirectory() as reports:
        env = {**os.environ, "PLR_DATABASE_URL": url, "PLR_REPORT_DIR": reports, "GX_ANALYTICS_ENABLED": "false"}
        try:
            measure(accounts, url, env)
        finally:
            db.engine(url).dispose()  # before the database is dropped


def measure(accounts: int, url: str, env: dict) -> None:
    print(f"plr generate --accounts {accounts:,}: {plr(['generate', '--accounts', str(accounts)], env):.1f} s",
          flush=True)
    with db.engine(url).connect() as conn:
        latest = conn.execute(db.statement("review/latest_snapshot_date", {})).scalar()
    print(f"plr review --date {latest} --dry-run: "
          f"{plr(['review', '--date', str(latest), '--dry-run'], env):.1f} s", flush=True)
    params = {"review_date": latest, "run_mode": "dry_run"}
    seconds, rows, columns = timed_read(url, {**params, **WHOLE_BOOK.params()})  # every shard at once
    print(f"read_frame review/review_inputs: {rows:,} rows x {columns} columns in {seconds:.2f} s", flush=True)
    seconds, rows = timed_insert(url, params)
    print(f"bulk_insert staged_decisions: {rows:,} rows in {seconds:.2f} s", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
