"""The tables that keep every night (limit_decisions, limit_ledger, decision_traces) are keyed by
review date first, so a night's rows append to their indexes instead of touching every page of
the history. A PostgreSQL warehouse made with the older keys (account first) is re-keyed once by
init; a SQLite one keeps its keys and gives the same results."""

from __future__ import annotations

from checks import check_night, checksums, scalar
from conftest import FIRST_DATE, SECOND_DATE, load_portfolio
from sqlalchemy import inspect

from post_loan_review import db, stages

HISTORY_KEYS = {
    "limit_decisions": ["review_date", "account_id", "arm"],
    "limit_ledger": ["review_date", "account_id"],
    "decision_traces": ["review_date", "account_id", "arm", "step"],
}
# the keys and date indexes of warehouses made before the keys led with the date
OLDER_KEYS = {
    "limit_decisions": "account_id, review_date, arm",
    "limit_ledger": "account_id, review_date",
    "decision_traces": "account_id, review_date, arm, step",
}
OLDER_DATE_INDEXES = {"limit_decisions_by_date": "limit_decisions (review_date, action)",
                      "limit_ledger_by_date": "limit_ledger (review_date)"}


def _keys(engine) -> dict[str, list[str]]:
    inspector = inspect(engine)
    return {table: inspector.get_pk_constraint(table)["constrained_columns"] for table in HISTORY_KEYS}


def _indexes(engine) -> set[str]:
    inspector = inspect(engine)
    return {index["name"] for table in HISTORY_KEYS for index in inspector.get_indexes(table)}


def _two_nights_and_a_rerun(engine) -> None:
    for review_date in (FIRST_DATE, SECOND_DATE, SECOND_DATE):
        stages.review(review_date, shard_count=2)
    check_night(engine, SECOND_DATE)


def test_a_new_warehouse_keys_its_history_by_date_first(any_warehouse):
    assert _keys(any_warehouse) == HISTORY_KEYS
    assert not _indexes(any_warehouse) & set(OLDER_DATE_INDEXES)


def test_init_rekeys_an_older_postgres_warehouse_once_and_keeps_every_row(postgres_warehouse):
    load_portfolio(postgres_warehouse, accounts=800)
    stages.review(FIRST_DATE, shard_count=2)
    with postgres_warehouse.begin() as conn:  # the keys and indexes a warehouse made before had
        for table, columns in OLDER_KEYS.items():
            conn.exec_driver_sql(f"alter table {table} drop constraint {table}_pkey, "
                                 f"add constraint {table}_pkey primary key ({columns})")
        for index, on in OLDER_DATE_INDEXES.items():
            conn.exec_driver_sql(f"create index {index} on {on}")
    assert _keys(postgres_warehouse)["limit_decisions"] == ["account_id", "review_date", "arm"]
    before = checksums(postgres_warehouse)

    with postgres_warehouse.begin() as conn:
        db.init_db(conn)
    assert _keys(postgres_warehouse) == HISTORY_KEYS
    assert not _indexes(postgres_warehouse) & set(OLDER_DATE_INDEXES)
    assert checksums(postgres_warehouse) == before
    index_of = "select pg_relation_filenode('limit_decisions_pkey')"
    rebuilt = scalar(postgres_warehouse, index_of)
    with postgres_warehouse.begin() as conn:  # re-keyed once: a second init leaves the index alone
        db.init_db(conn)
    assert scalar(postgres_warehouse, index_of) == rebuilt

    stages.review(SECOND_DATE, shard_count=2)
    stages.review(SECOND_DATE, shard_count=2)  # the re-run finds the recorded decisions by the new key
    check_night(postgres_warehouse, SECOND_DATE)


def test_a_sqlite_warehouse_with_the_older_keys_decides_and_records_the_same(warehouse, tmp_path, monkeypatch):
    load_portfolio(warehouse, accounts=800)
    _two_nights_and_a_rerun(warehouse)
    expected = checksums(warehouse)

    older = db.engine(f"sqlite:///{tmp_path / 'older.db'}")
    monkeypatch.setenv("PLR_DATABASE_URL", str(older.url))
    monkeypatch.setenv("PLR_REPORT_DIR", str(tmp_path / "older-reports"))
    load_portfolio(older, accounts=800)
    with older.begin() as conn:  # the tables of before, still empty: SQLite cannot change a key in place
        for table, columns in OLDER_KEYS.items():
            assert conn.exec_driver_sql(f"select count(*) from {table}").scalar() == 0
            conn.exec_driver_sql(f"drop table {table}")
            ddl = db.load_sql(f"schema/{_schema_file(table)}")
            conn.exec_driver_sql(db.split_statements(ddl.replace(", ".join(HISTORY_KEYS[table]), columns))[0])
        for index, on in OLDER_DATE_INDEXES.items():
            conn.exec_driver_sql(f"create index {index} on {on}")
    assert _keys(older)["limit_decisions"] == ["account_id", "review_date", "arm"]
    _two_nights_and_a_rerun(older)
    assert checksums(older) == expected
    older.dispose()


def _schema_file(table: str) -> str:
    return next(path.stem for path in (db.SQL_DIR / "schema").glob(f"*_{table}.sql"))


def test_the_older_keys_are_the_schema_files_keys_reordered():
    """The test's picture of an older warehouse is the schema's own key text, columns reordered."""
    for table, columns in HISTORY_KEYS.items():
        ddl = db.load_sql(f"schema/{_schema_file(table)}")
        assert f"primary key ({', '.join(columns)})" in ddl
        assert sorted(OLDER_KEYS[table].split(", ")) == sorted(columns)
