"""The staging tables hold the runs in flight, not every night since the warehouse began: each
run's extract deletes the staged rows of the earlier runs that are over and of past simulations,
and keeps those of runs that may still be resumed. On SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from checks import scalar
from conftest import FIRST_DATE, SECOND_DATE, load_portfolio
from sqlalchemy import text

from post_loan_review import db, explain, simulation, stages, staging
from post_loan_review.policy import load_policy
from post_loan_review.runs import ReviewRun
from post_loan_review.staging import STAGING_TABLES, StagingLostError


def _staged_runs(engine) -> dict[str, set[tuple[str, str]]]:
    """Per staging table, the (review date, run mode) pairs it holds rows of."""
    with engine.connect() as conn:
        return {table: {(str(day), mode) for day, mode in conn.execute(
                    text(f"select distinct review_date, run_mode from {table}"))}
                for table in STAGING_TABLES}


def test_a_night_clears_the_staging_of_the_runs_that_are_over_and_keeps_the_rest(any_warehouse):
    engine = any_warehouse
    load_portfolio(engine, accounts=400)
    stages.review(FIRST_DATE)  # reported: over
    in_flight = stages.resolve_review_date(FIRST_DATE, True, None)
    stages.extract_snapshots(in_flight)  # a dry run that stopped after extract: it may be resumed
    simulation.run_simulation(load_policy("v1"), FIRST_DATE)  # committed simulation rows, never read again
    first, dry, simulated = (str(FIRST_DATE), "live"), (str(FIRST_DATE), "dry_run"), (str(FIRST_DATE), "simulation")
    assert {first, dry, simulated} <= _staged_runs(engine)["review_inputs"]
    accounts = scalar(engine, "select count(*) from review_inputs where run_mode = 'live'")

    summary = stages.review(SECOND_DATE)

    second = (str(SECOND_DATE), "live")
    assert _staged_runs(engine) == {"review_inputs": {second, dry}, "staged_decisions": {second},
                                    "staged_traces": {second}}
    assert summary["accounts_reviewed"] > 0
    assert scalar(engine, "select count(*) from review_inputs") == accounts + scalar(
        engine, "select accounts_extracted from review_runs where run_mode = 'dry_run'")
    # the recorded decisions of the night that was cleared are still explained
    account = scalar(engine, f"select min(account_id) from limit_decisions where review_date = '{FIRST_DATE}'")
    with engine.connect() as conn:
        assert f"Account {account}, review of {FIRST_DATE} (live)" in explain.explain(conn, account, FIRST_DATE)
    # its report cannot be built again from staging that is gone: the error says why and what to do
    with pytest.raises(StagingLostError, match=rf"build_report {FIRST_DATE} .*extract of a later date.*Re-run"):
        stages.build_report(stages.resolve_review_date(FIRST_DATE, False, None))


def test_a_backfill_leaves_the_staging_of_newer_nights(any_warehouse):
    engine = any_warehouse
    load_portfolio(engine, accounts=300)
    stages.review(SECOND_DATE)
    stages.review(FIRST_DATE)  # a backfill of the night before, after it
    assert _staged_runs(engine)["staged_decisions"] == {(str(FIRST_DATE), "live"), (str(SECOND_DATE), "live")}


def test_a_failed_run_keeps_its_staging_for_its_rerun(warehouse):
    load_portfolio(warehouse, accounts=300)
    failed = stages.resolve_review_date(FIRST_DATE, False, None)
    stages.extract_snapshots(failed)
    with warehouse.begin() as conn:  # the run failed after extract
        conn.execute(text("update review_runs set status = 'failed'"))
    stages.review(SECOND_DATE)
    assert (str(FIRST_DATE), "live") in _staged_runs(warehouse)["review_inputs"]
    with warehouse.connect() as conn:
        assert db.read_frame(conn, "review/review_run", {"review_date": FIRST_DATE, "run_mode": "live"})[
            "status"].iloc[0] == "failed"


def test_a_dry_run_cleared_by_a_later_night_says_why_it_cannot_be_explained(warehouse):
    load_portfolio(warehouse, accounts=300)
    stages.review(FIRST_DATE, dry_run=True)
    account = scalar(warehouse, "select min(account_id) from staged_decisions")
    with warehouse.connect() as conn:
        assert "(dry_run)" in explain.explain(conn, account, FIRST_DATE, "dry_run")
    stages.review(SECOND_DATE)
    with warehouse.connect() as conn, pytest.raises(LookupError, match="deleted once it has reported"):
        explain.explain(conn, account, FIRST_DATE, "dry_run")


def _filenodes(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {table: conn.execute(text("select pg_relation_filenode(:table)"), {"table": table}).scalar_one()
                for table in STAGING_TABLES}


def _run(review_date, dry_run: bool = False) -> ReviewRun:
    return ReviewRun.from_xcom(stages.resolve_review_date(review_date, dry_run, None))


def test_on_postgres_a_night_alone_with_finished_runs_empties_the_staging_at_once(postgres_warehouse):
    load_portfolio(postgres_warehouse, accounts=300)
    stages.review(FIRST_DATE)
    before = _filenodes(postgres_warehouse)
    run = _run(SECOND_DATE)
    with postgres_warehouse.begin() as conn:
        assert staging.clear_finished_runs(conn, run) == "truncated"
    after = _filenodes(postgres_warehouse)
    assert all(after[table] != before[table] for table in STAGING_TABLES)  # new, empty files
    assert scalar(postgres_warehouse, "select count(*) from review_inputs") == 0


def test_on_postgres_a_run_in_flight_or_a_busy_table_makes_the_night_delete_instead(postgres_warehouse):
    load_portfolio(postgres_warehouse, accounts=300)
    stages.review(FIRST_DATE)
    run = _run(SECOND_DATE)
    before = _filenodes(postgres_warehouse)
    with postgres_warehouse.connect() as other, other.begin():
        other.execute(text("select count(*) from staged_decisions"))  # another run's transaction reads staging
        with postgres_warehouse.begin() as conn:
            assert staging.clear_finished_runs(conn, run) == "deleted"  # without waiting for it
    assert _filenodes(postgres_warehouse) == before
    assert _staged_runs(postgres_warehouse) == {table: set() for table in STAGING_TABLES}

    in_flight = stages.resolve_review_date(SECOND_DATE, True, None)
    stages.extract_snapshots(in_flight)  # a dry run of the night, stopped after extract
    stages.review(FIRST_DATE)  # and a re-run of the night before, which is over again
    with postgres_warehouse.begin() as conn:
        cleared = staging.clear_finished_runs(conn, _run(SECOND_DATE + timedelta(days=1)))
    assert cleared == f"deleted; kept 1 run(s): {SECOND_DATE} dry_run (extracted)"
    assert _staged_runs(postgres_warehouse)["review_inputs"] == {(str(SECOND_DATE), "dry_run")}


def test_init_drops_the_keys_older_staging_tables_had(postgres_warehouse):
    keys = {"review_inputs": "review_date, run_mode, account_id",
            "staged_decisions": "review_date, run_mode, account_id, arm",
            "staged_traces": "review_date, run_mode, account_id, arm, step"}
    with postgres_warehouse.begin() as conn:  # a warehouse made before the staging tables lost their keys
        for table_name, columns in keys.items():
            conn.exec_driver_sql(f"alter table {table_name} add primary key ({columns})")
    count = ("select count(*) from pg_constraint where contype = 'p' and conrelid in "
             "('review_inputs'::regclass, 'staged_decisions'::regclass, 'staged_traces'::regclass)")
    assert scalar(postgres_warehouse, count) == 3
    with postgres_warehouse.begin() as conn:
        db.init_db(conn)
    assert scalar(postgres_warehouse, count) == 0


def test_on_postgres_a_run_that_staged_while_the_night_waited_for_the_lock_is_kept(postgres_warehouse, monkeypatch):
    load_portfolio(postgres_warehouse, accounts=300)
    stages.review(FIRST_DATE)
    locked = staging._lock_alone

    def lock_after_a_dry_run_staged(conn):
        # what the first look could not see: a dry run that committed its inputs just before the lock
        conn.execute(text("insert into review_runs (review_date, run_mode, policy_version, status, updated_at) "
                          "values (:day, 'dry_run', 'v1', 'extracted', current_timestamp)"), {"day": SECOND_DATE})
        return locked(conn)

    monkeypatch.setattr(staging, "_lock_alone", lock_after_a_dry_run_staged)
    with postgres_warehouse.begin() as conn:
        cleared = staging.clear_finished_runs(conn, _run(SECOND_DATE))
    assert cleared == f"deleted; kept 1 run(s): {SECOND_DATE} dry_run (extracted)"
