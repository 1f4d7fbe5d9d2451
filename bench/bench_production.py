"""Benchmark: the whole nightly review on PostgreSQL, run the way the CeleryExecutor runs it, against
the floor -- the time to COPY the date's two input snapshots out into memory and the decisions back
in, with nothing else.

    .venv/bin/python bench/bench_production.py [ACCOUNTS ...]     (default 100000 1000000 10000000)

For each size it creates its own database on the server of ``PLR_TEST_POSTGRES_URL`` (default:
postgres on 127.0.0.1:5432), loads a synthetic book (in parts of a million accounts, so the set-up
stays small too), and runs every stage of ``post_loan_review`` for the latest snapshot date as its
own process, forked as a Celery worker forks a task's process (``--start-method spawn``: a fresh
interpreter per task instead), in the DAG's order and two at a time where the DAG lets
tasks run side by side (the two worker slots of this 2-core machine): extraction beside the
validation shards, then the reassessment shards, then the apply shards; with
``ceil(accounts / SHARD_ACCOUNTS)`` shards, at least two. It then measures the floor, prints one
line per stage (wall seconds, the CPU seconds the whole machine spent during it, and the peak RSS
of that stage's largest process), the whole review's wall time, accounts per second, the ratio
review / floor, the same ratio of CPU seconds, and the ratio to a wider floor that COPYs out every
input the policy reads (seven tables) instead of the two snapshots. The database is dropped whatever
happens. The breaker is treated as approved: the bench measures the work, not a person.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import multiprocessing
import os
import resource
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from typing import Any, Iterator

from sqlalchemy import create_engine, text

ADMIN_URL = os.environ.get("PLR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
WORKER_SLOTS = 2
SHARD_ACCOUNTS = 625_000  # accounts per shard: bounds a shard task's memory
LOAD_PART = 1_000_000
REVIEW_DATE = date(2026, 11, 27)


@contextlib.contextmanager
def bench_database() -> Iterator[str]:
    """A fresh database for one size, dropped afterwards; its URL."""
    name = f"plr_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'create database "{name}"'))
    try:
        yield ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()


def machine_cpu_seconds() -> float:
    """CPU seconds every core of this machine has spent busy since boot (/proc/stat: user, nice,
    system, irq, softirq; not the time a hypervisor gave to other guests), or 0.0 where there is
    no /proc/stat. A step's difference counts the work of its task processes, their PostgreSQL
    backends and parallel workers alike: the work the step cost, where wall seconds show how well
    two cores shared it."""
    try:
        with open("/proc/stat") as stat:
            fields = stat.readline().split()
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq = (int(value) for value in fields[1:8])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def _in_child(env: dict[str, str], function: str, *args: Any) -> tuple[Any, float, float]:
    """Run ``function`` of this module in a fresh worker process: (result, seconds, peak RSS MiB)."""
    os.environ.update(env)
    started = time.perf_counter()
    result = globals()[function](*args)
    elapsed = time.perf_counter() - started
    return result, elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


FIXED_SHARDS: int | None = None  # --shards
EARLIER_NIGHTS = 0  # --earlier-nights
HISTORY_NIGHTS = 0  # --history-nights
SCORE_HISTORY_DAYS = 0  # --score-history-days
START_METHOD = "forkserver"  # --start-method spawn: every task in a fresh interpreter (figures before 2026-11-29)
# what the server imports before it forks a task, as the worker has: Airflow with SQLAlchemy, and
# what include/airflow_config/post_loan_review_celery.py has the worker import (--cold-tasks:
# SQLAlchemy only, as before the fourth session of 2026-11-29)
FORKSERVER_PRELOAD = ["sqlalchemy", "post_loan_review.preload"]


def _pool(workers: int) -> ProcessPoolExecutor:
    """One task per process, so each peak RSS is that task's own. By default the processes fork from
    a server that has imported what the production worker imports before it forks a task's
    process (Airflow's task supervisor forks it from the Celery worker): SQLAlchemy, and the
    modules of ``post_loan_review.preload``, which ``post_loan_review_celery.CELERY_CONFIG`` has the
    Celery worker import at start."""
    context = multiprocessing.get_context(START_METHOD)
    if START_METHOD == "forkserver":
        context.set_forkserver_preload(FORKSERVER_PRELOAD)
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, max_tasks_per_child=1)


def load_book(accounts: int) -> int:
    """Generate and load the book in parts of LOAD_PART accounts; rows loaded."""
    from post_loan_review import db, sample_data

    loaded = 0
    for part, first in enumerate(range(0, accounts, LOAD_PART)):
        portfolio = sample_data.generate(min(LOAD_PART, accounts - first), seed=7 + part, end_date=REVIEW_DATE,
                                         first_account_id=sample_data.FIRST_ACCOUNT_ID + first)
        # each part numbers its security events from 1: keep them unique across parts
        portfolio.security_events["event_id"] += first * 10
        with db.engine().begin() as conn:
            if part == 0:
                db.rebuild(conn)
            loaded += sum(db.bulk_insert(conn, name, frame) for name, frame in portfolio.tables().items())
        del portfolio
    with db.engine().connect() as conn:  # fresh statistics, as a production database has
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("vacuum analyze")
    return loaded


def copy_score_history(night: date, days: int) -> int:
    """Give the score snapshots a snapshot for each of the ``days`` before the review date, copies
    of the one of ``night``: what a warehouse that has received one every night holds, and what
    the score baseline's window reads. Rows copied."""
    from post_loan_review import db

    copied = 0
    with db.engine().begin() as conn:
        # the dates in the order nightly loads append them, each date's rows together (copied in
        # one statement, every account's dates lay side by side, and a read of one date read the
        # whole table): the loaded snapshots set aside, then every date, the oldest first
        db.execute_script(conn, "bench/set_aside_score_snapshots")
        for back in range(days, -1, -1):
            day = REVIEW_DATE - timedelta(days=back)
            rows = db.execute(conn, "bench/copy_score_history",
                              {"source_date": night if day < night else day, "snapshot_date": day})
            copied += rows if day < night else 0
    with db.engine().connect() as conn:  # as autovacuum would have done, and a checkpoint
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("vacuum analyze credit_score_snapshots")
        conn.exec_driver_sql("checkpoint")
    return copied


def copy_earlier_nights(night: date, copies: int) -> int:
    """Copy the staged rows of ``night``'s finished review under the ``copies`` dates before it,
    each recorded as reported: the staging tables of a warehouse after that many more nights,
    had the staged rows of finished runs been kept. Rows written."""
    import pandas as pd

    from post_loan_review import db, runs
    from post_loan_review.runs import ReviewRun
    from post_loan_review.shards import WHOLE_BOOK

    params = {"review_date": night, "run_mode": "live"}
    with db.engine().begin() as conn:
        policy_version = db.read_frame(conn, "review/review_run", params)["policy_version"].iloc[0]
        staged = {"review_inputs": db.read_frame(conn, "review/review_inputs", {**params, **WHOLE_BOOK.params()},
                                                 date_columns=("last_decrease_date", "last_increase_date")),
                  "staged_decisions": db.read_frame(conn, "bench/staged_decisions", params),
                  "staged_traces": db.read_frame(conn, "bench/staged_traces", params)}
        written = 0
        for back in range(1, copies + 1):
            earlier = night - timedelta(days=back)
            for table, frame in staged.items():
                written += db.bulk_insert(conn, table, frame.assign(review_date=pd.Timestamp(earlier)))
            runs.record(conn, ReviewRun(earlier, "live", policy_version), "reported")
    with db.engine().connect() as conn:  # as autovacuum would have done during the day
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("vacuum analyze")
    return written


def copy_recorded_history(night: date, copies: int) -> int:
    """Copy the decisions, traces and ledger rows recorded for ``night`` under the ``copies`` dates
    before it: the history tables of a warehouse that has run that many more nights (which every
    night's writes go into, and the extract reads the ledger of). Rows written."""
    from post_loan_review import db

    written = 0
    with db.engine().begin() as conn:
        for back in range(1, copies + 1):
            copied = db.execute_returning(conn, "bench/copy_recorded_night",
                                          {"night": night, "earlier": night - timedelta(days=back)})
            written += int(copied["rows_written"].iloc[0])
    with db.engine().connect() as conn:  # as autovacuum would have done during the day, and a checkpoint
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("vacuum analyze")
        conn.exec_driver_sql("checkpoint")
    return written


def stage(name: str, *args: Any) -> Any:
    from post_loan_review import stages

    return getattr(stages, name)(*args)


def floor(review_date: date) -> dict[str, float]:
    """COPY the two snapshots of the date out into data frames, and the run's decisions back in:
    into a table like ``staged_decisions`` (logged, as every table the review writes is), and, for
    comparison with figures before 2026-11-29, into a temporary table, which PostgreSQL does not
    write to its WAL; and the COPY out of every input the policy reads (``every_input_out``).
    Nothing is kept."""
    from post_loan_review import db

    params = {"review_date": review_date, "run_mode": "live"}
    with db.engine().connect() as conn, conn.begin() as transaction:
        decisions = db.read_frame(conn, "bench/staged_decisions", params, date_columns=("review_date",))
        conn.exec_driver_sql("create table floor_decisions (like staged_decisions including all)")
        started, started_cpu = time.perf_counter(), machine_cpu_seconds()
        rows_out = sum(len(db.read_frame(conn, f"bench/{name}", {"snapshot_date": review_date}))
                       for name in ("score_snapshot", "repayment_snapshot"))
        copied_out = time.perf_counter()
        rows_in = db.bulk_insert(conn, "floor_decisions", decisions)
        copied_in, copied_in_cpu = time.perf_counter(), machine_cpu_seconds()
        transaction.rollback()
    with db.engine().connect() as conn, conn.begin() as transaction:
        conn.exec_driver_sql("create temporary table floor_decisions (like staged_decisions including all)")
        started_temporary = time.perf_counter()
        db.bulk_insert(conn, "floor_decisions", decisions)
        copied_in_temporary = time.perf_counter() - started_temporary
        transaction.rollback()
    return {"copy_out_s": copied_out - started, "copy_in_s": copied_in - copied_out,
            "cpu_s": copied_in_cpu - started_cpu,
            "copy_in_temporary_s": copied_in_temporary, "rows_out": rows_out, "rows_in": rows_in,
            **every_input_out(review_date)}


def every_input_out(review_date: date) -> dict[str, float | int]:
    """The floor's COPY out widened to every input the policy reads: the accounts, the score
    snapshots of the date and of the date before it, the repayment, spending and credit-inquiry
    snapshots, and the security events and income verifications of the policy's windows, each
    read into a data frame and let go before the next, as the floor's two snapshots are."""
    from post_loan_review import db, snapshots
    from post_loan_review.config import settings
    from post_loan_review.policy import load_policy

    policy = load_policy(settings().policy_version)
    with db.engine().connect() as conn:
        previous = snapshots.previous_snapshot_date(conn, review_date)
        reads = [("accounts", {}), ("score_snapshot", {"snapshot_date": review_date}),
                 ("score_snapshot", {"snapshot_date": previous}),
                 ("repayment_snapshot", {"snapshot_date": review_date}),
                 ("spending_snapshot", {"snapshot_date": review_date}),
                 ("credit_inquiry_snapshot", {"snapshot_date": review_date}),
                 ("security_events_window", {"review_date": review_date, "window_start":
                                             review_date - timedelta(days=policy.security_window_days)}),
                 ("income_verifications_window", {"review_date": review_date, "window_start":
                                                  review_date - timedelta(days=policy.income_window_days)})]
        started, started_cpu = time.perf_counter(), machine_cpu_seconds()
        rows = sum(len(db.read_frame(conn, f"bench/{name}", params)) for name, params in reads)
        return {"every_input_out_s": time.perf_counter() - started,
                "every_input_cpu_s": machine_cpu_seconds() - started_cpu, "every_input_rows": rows}


def review(env: dict[str, str], shard_count: int, review_date: date = REVIEW_DATE
           ) -> tuple[list[tuple[str, float, float | None, float]], float, float]:
    """Every task as its own process, in the DAG's order; per step (name, wall s, machine CPU s,
    peak RSS MiB; a task of a step of several has no CPU figure of its own), the total wall
    seconds and the total CPU seconds. A step of several tasks runs them WORKER_SLOTS at a time,
    as the DAG lets them run: extraction beside the validation shards, then the reassessment
    shards, then the apply shards."""
    timings: list[tuple[str, float, float | None, float]] = []
    began, began_cpu = time.perf_counter(), machine_cpu_seconds()

    def side_by_side(label: str, tasks: list[tuple[str, tuple]]) -> list[Any]:
        started, started_cpu = time.perf_counter(), machine_cpu_seconds()
        with _pool(WORKER_SLOTS) as pool:
            done = [f.result() for f in [pool.submit(_in_child, env, "stage", name, *args) for name, args in tasks]]
        timings.append((label, time.perf_counter() - started, machine_cpu_seconds() - started_cpu,
                        max(peak for _, _, peak in done)))
        if len(tasks) > 1:  # each task's own time, under the step's wall time
            timings.extend((f"  {name}", seconds, None, peak) for (name, _), (_, seconds, peak) in zip(tasks, done))
        return [result for result, _, _ in done]

    def one(name: str, *args: Any) -> Any:
        return side_by_side(name, [(name, args)])[0]

    run = one("resolve_review_date", review_date, False, None, None, None, shard_count)
    shards = [(run, shard) for shard in run["shards"]]
    extracted = side_by_side(f"extract + validate x{len(shards)}", [("extract_snapshots", (run,))] + [
        ("validate_snapshots", args) for args in shards])[0]
    one("quality_gate", run, extracted["previous_snapshot_date"])
    side_by_side(f"reassess_accounts x{len(shards)}", [("reassess_accounts", args) for args in shards])
    one("check_portfolio", run)
    side_by_side(f"apply_limit_changes x{len(shards)}", [("apply_limit_changes", args) for args in shards])
    one("queue_notifications", run)
    one("build_report", run)
    return timings, time.perf_counter() - began, machine_cpu_seconds() - began_cpu


def main(sizes: list[int]) -> None:
    print(f"{'accounts':>11}  {'step':<30} {'wall s':>8} {'CPU s':>7} {'peak RSS MiB':>13}")
    for accounts in sizes:
        shard_count = FIXED_SHARDS or max(2, math.ceil(accounts / SHARD_ACCOUNTS))
        with bench_database() as url, tempfile.TemporaryDirectory() as reports:
            env = {"PLR_DATABASE_URL": url, "PLR_REPORT_DIR": reports, "GX_ANALYTICS_ENABLED": "false"}
            with _pool(1) as pool:
                rows, seconds, peak = pool.submit(_in_child, env, "load_book", accounts).result()
            label = f"(set-up) load {rows:,} rows"
            print(f"{accounts:>11,}  {label:<30} {seconds:>8.1f} {'':>7} {peak:>13,.0f}")
            if SCORE_HISTORY_DAYS > 2:
                with _pool(1) as pool:
                    rows, seconds, _ = pool.submit(_in_child, env, "copy_score_history",
                                                   REVIEW_DATE - timedelta(days=1), SCORE_HISTORY_DAYS).result()
                print(f"{accounts:>11,}  {'(set-up) ' + format(rows, ',') + ' earlier scores':<30} {seconds:>8.1f}")
            if EARLIER_NIGHTS:
                night = REVIEW_DATE - timedelta(days=1)
                _, seconds, _ = review(env, shard_count, night)
                print(f"{accounts:>11,}  {'(set-up) review ' + str(night):<30} {seconds:>8.1f}")
                for nights, copy, kept in ((EARLIER_NIGHTS, "copy_earlier_nights", "staged"),
                                           (HISTORY_NIGHTS, "copy_recorded_history", "recorded")):
                    if nights > 1:
                        with _pool(1) as pool:
                            _, seconds, _ = pool.submit(_in_child, env, copy, night, nights - 1).result()
                        label = f"(set-up) {nights - 1} more nights {kept}"
                        print(f"{accounts:>11,}  {label:<30} {seconds:>8.1f}")
            timings, total, total_cpu = review(env, shard_count)
            for name, seconds, cpu, peak in timings:
                shown_cpu = "" if cpu is None else f"{cpu:.1f}"
                print(f"{accounts:>11,}  {name:<30} {seconds:>8.1f} {shown_cpu:>7} {peak:>13,.0f}")
            with _pool(1) as pool:
                measured, _, floor_peak = pool.submit(_in_child, env, "floor", REVIEW_DATE).result()
            floor_s = measured["copy_out_s"] + measured["copy_in_s"]
            floor_temporary_s = measured["copy_out_s"] + measured["copy_in_temporary_s"]
            print(f"{accounts:>11,}  {'floor: COPY out snapshots':<30} {measured['copy_out_s']:>8.1f} {'':>7} "
                  f"{floor_peak:>13,.0f}")
            print(f"{accounts:>11,}  {'floor: COPY in decisions':<30} {measured['copy_in_s']:>8.1f}")
            print(f"{accounts:>11,}  {'  (into a temporary table)':<30} {measured['copy_in_temporary_s']:>8.1f}")
            print(f"{accounts:>11,}  {'floor: out + in':<30} {floor_s:>8.1f} {measured['cpu_s']:>7.1f}")
            # the same floor, reading every input the policy reads instead of the two snapshots
            wide_s = measured["every_input_out_s"] + measured["copy_in_s"]
            print(f"{accounts:>11,}  {'floor: every input out':<30} {measured['every_input_out_s']:>8.1f} "
                  f"{measured['every_input_cpu_s']:>7.1f}")
            largest = max(peak for _, _, _, peak in timings)
            cpu_ratio = (f"machine CPU {total_cpu:.1f} s against the floor's {measured['cpu_s']:.1f} s = "
                         f"{total_cpu / measured['cpu_s']:.2f}" if measured["cpu_s"] else "no CPU figures here")
            print(f"{accounts:>11,}  WHOLE REVIEW {total:.1f} s with {shard_count} shards = "
                  f"{accounts / total:,.0f} accounts/s; floor {floor_s:.1f} s; review / floor = {total / floor_s:.2f} "
                  f"({total / floor_temporary_s:.2f} against the floor into a temporary table); "
                  f"largest process {largest:,.0f} MiB; {cpu_ratio}; against the floor of every input the policy "
                  f"reads ({measured['every_input_rows']:,} rows out, then the decisions in), {wide_s:.1f} s, "
                  f"review / floor = {total / wide_s:.2f}", flush=True)


if __name__ == "__main__":
    arguments = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    arguments.add_argument("accounts", nargs="*", type=int, default=[100_000, 1_000_000, 10_000_000])
    arguments.add_argument("--shards", type=int, help="this many shards at every size, instead of "
                           f"ceil(accounts / {SHARD_ACCOUNTS:,}) and at least two")
    arguments.add_argument("--start-method", choices=["forkserver", "spawn"], default=START_METHOD,
                           help="how task processes start (default: forked from a server that imported what a worker "
                                "imports: SQLAlchemy and post_loan_review.preload)")
    arguments.add_argument("--cold-tasks", action="store_true",
                           help="fork tasks from a server that imported SQLAlchemy only: every task imports "
                                "pandas, Great Expectations and this project itself (a worker without our Celery "
                                "settings)")
    arguments.add_argument("--earlier-nights", type=int, default=0, metavar="N",
                           help="first review the day before (unmeasured), and with N > 1 copy its staged rows "
                                "under the N - 1 dates before it as finished nights: a warehouse that has run "
                                "before, instead of a fresh one")
    arguments.add_argument("--history-nights", type=int, default=0, metavar="N",
                           help="first review the day before (unmeasured), and copy the decisions, traces and "
                                "ledger rows it recorded under the N - 1 dates before it: the history tables of a "
                                "warehouse that has run N nights")
    arguments.add_argument("--score-history-days", type=int, default=0, metavar="N",
                           help="copy the score snapshot of the day before under the dates before it, so that "
                                "the N days before the review date each have one, as a warehouse that receives "
                                "one every night has (the score baseline's window is 90 days); with "
                                "--earlier-nights 1 the measured night carries the day before's baseline sums")
    parsed = arguments.parse_args()
    START_METHOD = parsed.start_method
    FORKSERVER_PRELOAD = ["sqlalchemy"] if parsed.cold_tasks else FORKSERVER_PRELOAD
    FIXED_SHARDS = parsed.shards
    HISTORY_NIGHTS = parsed.history_nights
    SCORE_HISTORY_DAYS = parsed.score_history_days
    EARLIER_NIGHTS = max(parsed.earlier_nights, 1 if HISTORY_NIGHTS else 0)
    main(parsed.accounts)
