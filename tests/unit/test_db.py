"""The warehouse layer: schema creation, drift detection, rebuilding, bulk writes of both kinds."""

import pandas as pd
import pytest
from sqlalchemy import inspect, text

from post_loan_review import db


def test_a_warehouse_made_by_an_older_version_is_refused_naming_what_is_missing(tmp_path):
    engine = db.engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as conn:
        conn.execute(text("create table accounts (account_id bigint primary key, customer_id bigint)"))
    with engine.begin() as conn, pytest.raises(db.SchemaDriftError, match=r"accounts lacks open_date, segment"):
        db.init_db(conn)
    with engine.begin() as conn:
        db.rebuild(conn)
        assert db.schema_drift(conn) == []
        assert "refused_automated_decisions" in {c["name"] for c in inspect(conn).get_columns("accounts")}


def test_bulk_insert_keeps_integers_nulls_and_dates(warehouse):
    frame = pd.DataFrame({
        "account_id": [1, 2], "snapshot_date": pd.to_datetime(["2026-11-27", "2026-11-27"]),
        "score": pd.array([700, None], dtype="Int64"), "model_version": ["m", None],
    })
    with warehouse.begin() as conn:
        assert db.bulk_insert(conn, "credit_score_snapshots", frame) == 2
        rows = conn.execute(text("select account_id, snapshot_date, score, model_version "
                                 "from credit_score_snapshots order by account_id")).all()
    assert rows == [(1, "2026-11-27", 700, "m"), (2, "2026-11-27", None, None)]


def test_postgresql_sessions_get_statement_and_lock_timeouts(postgres_warehouse):
    with postgres_warehouse.connect() as conn:
        assert conn.execute(text("show statement_timeout")).scalar() == "30min"
        assert conn.execute(text("show lock_timeout")).scalar() == "1min"
