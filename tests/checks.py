"""Checks of the warehouse after a review, shared by the in-process and the Airflow tests."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import text

OUTPUT_TABLES = {
    "accounts": "account_id",
    "limit_decisions": "account_id, review_date",
    "limit_ledger": "account_id, review_date",
    "notifications": "notification_key",
    "decision_traces": "account_id, review_date, arm, step",
}


def table(engine, name: str) -> pd.DataFrame:
    with engine.connect() as conn:
        frame = pd.read_sql(text(f"select * from {name} order by {OUTPUT_TABLES.get(name, '1')}"), conn)
    return frame


def checksums(engine) -> dict[str, str]:
    """A SHA-256 of each output table's rows in key order: equal checksums, equal tables."""
    import hashlib

    return {name: hashlib.sha256(table(engine, name).to_csv(index=False).encode()).hexdigest()
            for name in OUTPUT_TABLES}


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def keys_staged_twice(engine, table_name: str, key: str) -> int:
    """How many values of ``key`` (a column list) occur more than once in the staging table
    ``table_name``, which has no primary key to refuse them."""
    return scalar(engine, f"select count(*) from (select {key} from {table_name} "
                          f"group by {key} having count(*) > 1) as doubled")


def check_night(engine, review_date, arms: int = 1):
    reviewable = scalar(engine, "select count(*) from accounts where status <> 'closed'")
    decided = scalar(engine, "select count(*) from limit_decisions where review_date = :d", d=review_date)
    assert decided == reviewable * arms > 0
    assert scalar(engine, """select count(*) from (select account_id from limit_decisions
        where review_date = :d and is_applied group by account_id having count(*) > 1) as twice""", d=review_date) == 0
    # the floor and the ceiling hold for every changed limit
    assert scalar(engine, """
        select count(*) from limit_decisions d join accounts a on a.account_id = d.account_id
        where d.review_date = :d and d.new_limit_fen <> d.old_limit_fen
          and (d.new_limit_fen < 5000 or d.new_limit_fen > a.approved_limit_fen)""", d=review_date) == 0
    # every change has exactly one ledger row and one notification, and nothing else has one
    changes = scalar(engine, """select count(*) from limit_decisions where review_date = :d and is_applied
        and (new_limit_fen <> old_limit_fen or new_status <> old_status)""", d=review_date)
    assert changes > 0
    assert scalar(engine, "select count(*) from limit_ledger where review_date = :d", d=review_date) == changes
    assert scalar(engine, """select count(*) from limit_ledger l join notifications n
        on n.account_id = l.account_id and n.review_date = l.review_date
        where l.review_date = :d""", d=review_date) == changes
    assert scalar(engine, "select count(*) from notifications where review_date = :d", d=review_date) == changes
