"""PostgreSQL keeps the run's staging tables unlogged, so a server crash empties them: the stages
that read staged rows stop with what to do, nothing is half-written, and re-running the review
from extract finishes the night with the decisions it would have made."""

from __future__ import annotations

import pandas as pd
import pytest
from checks import scalar
from conftest import FIRST_DATE, load_portfolio, reassessed_run
from sqlalchemy import text

from post_loan_review import db, stages
from post_loan_review.staging import STAGING_TABLES, StagingLostError

LOGGED_TABLES = ("limit_decisions", "limit_ledger", "notifications", "review_runs", "accounts")


def _persistence(engine, names) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(text("select relname, relpersistence from pg_class where relname = any(:names) "
                                 "and relkind = 'r'"), {"names": list(names)})
        return dict(rows.all())


def _crash_empties_staging(engine) -> None:
    """What PostgreSQL does to unlogged tables when it restarts after a crash."""
    with engine.begin() as conn:
        conn.exec_driver_sql(f"truncate {', '.join(STAGING_TABLES)}")


def _checked_run(shard_count: int) -> dict:
    run = reassessed_run(FIRST_DATE, shard_count)
    assert not stages.check_portfolio(run)["breached"]
    return run


def _staged_actions(engine) -> pd.Series:
    with engine.connect() as conn:
        return pd.read_sql(text("select account_id, action from staged_decisions where applies order by account_id"),
                           conn).set_index("account_id")["action"]


def test_only_the_staging_tables_skip_the_write_ahead_log(postgres_warehouse):
    assert _persistence(postgres_warehouse, STAGING_TABLES + LOGGED_TABLES) == {
        **dict.fromkeys(STAGING_TABLES, "u"), **dict.fromkeys(LOGGED_TABLES, "p")}
    with postgres_warehouse.begin() as conn:  # a warehouse made before they were unlogged
        conn.exec_driver_sql("alter table staged_decisions set logged")
    with postgres_warehouse.begin() as conn:
        db.init_db(conn)
    assert _persistence(postgres_warehouse, ["staged_decisions"]) == {"staged_decisions": "u"}


def test_a_crash_between_reassess_and_the_breaker_stops_the_breaker(postgres_warehouse):
    load_portfolio(postgres_warehouse, accounts=1500)
    run = reassessed_run(FIRST_DATE, shard_count=1)
    extracted = scalar(postgres_warehouse, "select accounts_extracted from review_runs")
    _crash_empties_staging(postgres_warehouse)
    with pytest.raises(StagingLostError, match=rf"check_portfolio {FIRST_DATE} .*staged "
                                               rf"{extracted:,} accounts.* from extract_snapshots"):
        stages.check_portfolio(run)


def test_a_crash_before_apply_applies_nothing_and_a_rerun_finishes_the_night(postgres_warehouse):
    load_portfolio(postgres_warehouse, accounts=3000)
    run = _checked_run(shard_count=2)
    expected = _staged_actions(postgres_warehouse)
    stages.apply_limit_changes(run, 0)  # one shard committed before the crash
    applied_before = scalar(postgres_warehouse, "select count(*) from limit_decisions")
    ledger_before = scalar(postgres_warehouse, "select count(*) from limit_ledger")
    assert 0 < applied_before < len(expected)
    _crash_empties_staging(postgres_warehouse)

    with pytest.raises(StagingLostError, match=r"apply_limit_changes\[2/2\] .*none is left.*Re-run the review"):
        stages.apply_limit_changes(run, 1)
    with pytest.raises(StagingLostError, match=r"build_report"):
        stages.build_report(run)
    assert scalar(postgres_warehouse, "select count(*) from limit_decisions") == applied_before
    assert scalar(postgres_warehouse, "select count(*) from limit_ledger") == ledger_before

    stages.review(FIRST_DATE, shard_count=2)  # the whole review again, from extract
    with postgres_warehouse.connect() as conn:
        recorded = pd.read_sql(text("select account_id, action from limit_decisions where is_applied "
                                    "order by account_id"), conn).set_index("account_id")["action"]
    pd.testing.assert_series_equal(recorded, expected)  # every account once, decided as before the crash
    assert scalar(postgres_warehouse, """select count(*) from (select account_id from limit_ledger
        group by account_id, review_date having count(*) > 1) as twice""") == 0
    assert scalar(postgres_warehouse, "select status from review_runs where run_mode = 'live'") == "reported"
