"""Benchmark: building the review report (HTML, decisions CSV, JSON summary, history line) for
1,000,000 accounts, on the embedded default (SQLite) and, with --postgres, on the local server.

    .venv/bin/python bench/bench_report.py [ACCOUNTS] [--postgres]

It loads a synthetic book, reviews 2026-11-26 and 2026-11-27 up to the notifications (so the
report has a previous night, a trend, quarantined rows and a live run to describe), then builds
the report of 2026-11-27 twice (the second is a re-run over the existing files) in a fresh process
each, as the build_report task runs. Prints wall seconds, peak RSS and the time of each query.
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

NIGHTS = (date(2026, 11, 26), date(2026, 11, 27))


def _prepare(env: dict[str, str], accounts: int) -> None:
    os.environ.update(env)
    from post_loan_review import db, sample_data, stages

    with db.engine().begin() as conn:
        sample_data.load(conn, sample_data.generate(accounts, end_date=NIGHTS[-1]))
    for night in NIGHTS:  # the breaker is approved: the bench measures the report, not a person
        stages.review(night, approved=True, shard_count=2, report=night != NIGHTS[-1])


def _report(env: dict[str, str]) -> tuple[float, float, dict[str, float]]:
    os.environ.update(env)
    from post_loan_review import db, stages

    spent: dict[str, float] = collections.defaultdict(float)
    read_frame = db.read_frame

    def timed_read(conn, name, *args, **kwargs):
        started = time.perf_counter()
        try:
            return read_frame(conn, name, *args, **kwargs)
        finally:
            spent[name] += time.perf_counter() - started

    db.read_frame = timed_read
    run = stages.resolve_review_date(NIGHTS[-1], False, None, shard_count=2)
    started = time.perf_counter()
    stages.build_report(run)
    elapsed = time.perf_counter() - started
    return elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, dict(spent)


def _in_fresh_process(function, *args):
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def main(accounts: int, postgres: bool) -> None:
    from bench_production import bench_database

    with tempfile.TemporaryDirectory() as work:
        if postgres:
            database = bench_database()
            url = database.__enter__()
        else:
            database, url = None, f"sqlite:///{work}/warehouse.db"
        try:
            env = {"PLR_DATABASE_URL": url, "PLR_REPORT_DIR": f"{work}/reports", "GX_ANALYTICS_ENABLED": "false"}
            started = time.perf_counter()
            _in_fresh_process(_prepare, env, accounts)
            print(f"{accounts:,} accounts on {url.split(':')[0]}: set-up (load, two nights) {time.perf_counter() - started:.0f} s")
            for label in ("build_report", "build_report (re-run)"):
                elapsed, peak, spent = _in_fresh_process(_report, env)
                print(f"  {label:<22} {elapsed:6.1f} s   peak RSS {peak:,.0f} MiB", flush=True)
            print("  of which, reading:", ", ".join(f"{name.removeprefix('report/')} {s:.2f}"
                                                  for name, s in sorted(spent.items(), key=lambda i: -i[1])))
            folder = Path(work) / "reports" / NIGHTS[-1].isoformat() / "live"
            print("  files:", ", ".join(f"{p.name} {p.stat().st_size / 1e6:.1f} MB" for p in sorted(folder.iterdir())))
        finally:
            if database is not None:
                database.__exit__(None, None, None)


if __name__ == "__main__":
    arguments = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    arguments.add_argument("accounts", nargs="?", type=int, default=1_000_000)
    arguments.add_argument("--postgres", action="store_true")
    options = arguments.parse_args()
    main(options.accounts, options.postgres)
