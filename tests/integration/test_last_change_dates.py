"""Accounts keep the dates of their last decrease and increase beside their limit, so a night's
extract reads none of the ledger's history (which grows every night); a backfill still gets the
dates as of its own review date from the ledger. On SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
from conftest import FIRST_DATE, SECOND_DATE, load_portfolio
from sqlalchemy import text

from post_loan_review import db, stages

DATES = ["last_decrease_date", "last_increase_date"]
LEDGER_AS_OF = """
    select account_id,
           max(case when new_limit_fen < old_limit_fen then review_date end) as last_decrease_date,
           max(case when new_limit_fen > old_limit_fen then review_date end) as last_increase_date
    from limit_ledger where review_date < :as_of group by account_id"""


def _frame(engine, sql: str, **params) -> pd.DataFrame:
    with engine.connect() as conn:
        frame = pd.read_sql(text(sql), conn, params=params)
    for column in DATES:  # SQLite gives text, PostgreSQL dates
        frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame.set_index("account_id").sort_index()


def _expected(engine, accounts: pd.Index, as_of) -> pd.DataFrame:
    """The dates the whole ledger gives as of ``as_of``: what the extract aggregated before."""
    ledger = _frame(engine, LEDGER_AS_OF, as_of=as_of)
    return ledger.reindex(accounts).astype(object).where(lambda f: f.notna(), None)


def _staged(engine, review_date, run_mode: str) -> pd.DataFrame:
    return _frame(engine, "select account_id, last_decrease_date, last_increase_date from review_inputs "
                          "where review_date = :d and run_mode = :m", d=review_date, m=run_mode
                  ).astype(object).where(lambda f: f.notna(), None)


def _with_history(engine) -> None:
    """A portfolio whose ledger has changes before the first night: cuts 40 days before it for a
    third of the accounts, raises 10 days before it for another third; the accounts' dates filled
    from the ledger as the migration fills them."""
    load_portfolio(engine, accounts=1500)
    with engine.begin() as conn:
        accounts = pd.read_sql(text("select account_id, current_limit_fen, status from accounts "
                                    "where status = 'active' order by account_id"), conn)
        cut, raised = accounts.iloc[0::3], accounts.iloc[1::3]
        changes = pd.concat([
            cut.assign(review_date=pd.Timestamp(FIRST_DATE - timedelta(days=40)), action="DECREASE",
                       old_limit_fen=cut["current_limit_fen"] + 100_000, new_limit_fen=cut["current_limit_fen"]),
            raised.assign(review_date=pd.Timestamp(FIRST_DATE - timedelta(days=10)), action="RESTORE",
                          old_limit_fen=raised["current_limit_fen"] - 10_000, new_limit_fen=raised["current_limit_fen"]),
        ])
        db.bulk_insert(conn, "limit_ledger", changes.assign(
            policy_version="v1", old_status=changes["status"], new_status=changes["status"], reason_1="TEST")[
            ["account_id", "review_date", "policy_version", "action", "old_limit_fen", "new_limit_fen",
             "old_status", "new_status", "reason_1"]])
        db.execute_script(conn, "migrate/fill_account_change_dates")


def test_nights_read_the_accounts_dates_and_a_backfill_the_ledger_as_of_its_date(any_warehouse):
    _with_history(any_warehouse)
    stages.review(FIRST_DATE, shard_count=2)
    stages.review(SECOND_DATE, shard_count=2)

    night = _staged(any_warehouse, SECOND_DATE, "live")  # the accounts' own dates
    assert night.notna().any().all()
    pd.testing.assert_frame_equal(night, _expected(any_warehouse, night.index, SECOND_DATE))
    # apply kept each account's dates equal to its latest ledger rows
    stored = _frame(any_warehouse, "select account_id, last_decrease_date, last_increase_date from accounts")
    latest = _expected(any_warehouse, stored.index, SECOND_DATE + timedelta(days=1))
    pd.testing.assert_frame_equal(stored.astype(object).where(stored.notna(), None), latest)

    stages.review(FIRST_DATE, dry_run=True, shard_count=2)  # a backfill: the ledger changed accounts since
    backfill = _staged(any_warehouse, FIRST_DATE, "dry_run")
    as_of = _expected(any_warehouse, backfill.index, FIRST_DATE)
    pd.testing.assert_frame_equal(backfill, as_of)
    # and that is not what the accounts say now, for the accounts the two nights changed
    now = latest.reindex(backfill.index)
    assert (now["last_decrease_date"] != as_of["last_decrease_date"]).sum() > 10


def test_init_adds_and_fills_the_dates_on_a_warehouse_made_before_them(any_warehouse):
    _with_history(any_warehouse)
    stages.review(FIRST_DATE, shard_count=2)
    with any_warehouse.begin() as conn:
        for column in DATES:
            conn.exec_driver_sql(f"alter table accounts drop column {column}")
    with any_warehouse.begin() as conn:
        db.init_db(conn)
    stored = _frame(any_warehouse, "select account_id, last_decrease_date, last_increase_date from accounts")
    filled = stored.astype(object).where(stored.notna(), None)
    assert filled["last_decrease_date"].notna().sum() > 400
    pd.testing.assert_frame_equal(filled, _expected(any_warehouse, stored.index, FIRST_DATE + timedelta(days=1)))
