"""Bulk reads and writes through COPY on PostgreSQL give what the SQLite path gives: the same rows,
the same dtypes where callers look at them, the same decisions.csv."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from conftest import SECOND_DATE, load_portfolio
from sqlalchemy import text

from post_loan_review import db, reports, shard_counts, stages
from post_loan_review.runs import ReviewRun
from post_loan_review.shards import WHOLE_BOOK, Shard

DRY_RUN = {"review_date": SECOND_DATE, "run_mode": "dry_run"}
COUNTED = {**DRY_RUN, "shard_count": 1}  # the counts of the fixture's decisions, as one shard counts them
# query, parameters, date columns as its callers ask, columns to sort by when it has no order
QUERIES = [
    ("review/review_inputs", {**DRY_RUN, **Shard(1, 2).params()}, ("review_date", "last_decrease_date", "last_increase_date"), None),
    ("report/decisions", DRY_RUN, (), None),
    ("report/decision_counts", COUNTED, (), ["action", "guardrail"]),
    ("report/arm_counts", COUNTED, (), None),
    ("report/reason_counts", COUNTED, (), ["code"]),
    ("report/largest_changes", COUNTED, (), None),
    ("report/quarantined_count", DRY_RUN, (), None),
    ("review/snapshot_row_counts", {"snapshot_date": SECOND_DATE}, (), None),
    ("review/repayment_snapshot_rows", {"snapshot_date": SECOND_DATE, **WHOLE_BOOK.params()}, ("snapshot_date",),
     ["account_id"]),
]


@pytest.fixture
def reviewed(warehouse, postgres_warehouse, monkeypatch):
    """The same portfolio, with a few odd decisions added, dry-run reviewed on SQLite and on
    PostgreSQL; the two engines by name."""
    engines = {"sqlite": warehouse, "postgres": postgres_warehouse}
    for engine in engines.values():
        monkeypatch.setenv("PLR_DATABASE_URL", engine.url.render_as_string(hide_password=False))
        load_portfolio(engine, accounts=3000)
        stages.review(SECOND_DATE, dry_run=True)
        with engine.begin() as conn:
            db.bulk_insert(conn, "staged_decisions", _odd_decisions())
            # every staged decision, the odd ones too, counted as one shard of the whole book
            staged = pd.read_sql(text("select * from staged_decisions where run_mode = 'dry_run'"), conn)
            shard_counts.record(conn, ReviewRun(SECOND_DATE, "dry_run", "v1"), WHOLE_BOOK, staged)
    return engines


def _odd_decisions() -> pd.DataFrame:
    """Staged decisions with an empty-string reason, NaN and whole ratios, a missing score."""
    return pd.DataFrame({
        "review_date": pd.to_datetime([SECOND_DATE] * 2), "run_mode": "dry_run",
        "account_id": [999_999_001, 999_999_002], "policy_version": "v1", "arm": "champion",
        "applies": [True, False], "action": "HOLD", "old_limit_fen": [100_000, 2_000_000_000_000],
        "new_limit_fen": [100_000, 1_999_999_999_999], "old_status": "active", "new_status": "active",
        "reason_1": ["", "R, \"quoted\"\nline"], "reason_2": [None, "中文"], "reason_3": None, "reason_4": None,
        "guardrail": [None, ""], "score": pd.array([None, 700], dtype="Int64"),
        "score_drop": pd.array([None, 0], dtype="Int64"), "days_past_due": pd.array([0, None], dtype="Int64"),
        "min_payment_only_months": 0, "spend_ratio": [np.nan, 2.0], "largest_txn_ratio": [0.1, 0.0],
        "days_since_last_txn": 3, "security_events": 0, "inquiries_30d": 1, "on_time_full_payment_months": 4,
        "verified_monthly_income_fen": pd.array([None, 1_234_500], dtype="Int64"), "preferred_language": "zh",
    })


def _read(engine, name, params, date_columns, sort_by):
    with engine.begin() as conn:
        frame = db.read_frame(conn, name, params, date_columns=date_columns)
    return frame.sort_values(sort_by, ignore_index=True) if sort_by else frame


def _assert_same_frame(lite: pd.DataFrame, pg: pd.DataFrame, name: str) -> None:
    """Column by column: equal dtypes and values, except where the databases differ by nature:
    SQLite has no boolean (0/1 Int64 there, boolean here) and types an all-NULL column as string."""
    assert list(pg.columns) == list(lite.columns), name
    assert len(pg) == len(lite) > 0, name
    for column in lite.columns:
        expected, got = lite[column], pg[column]
        where = f"{name}.{column}"
        if got.dtype == "boolean":
            assert expected.dtype == "Int64", where
            expected = expected.astype("boolean")
        elif expected.isna().all():
            assert got.isna().all(), where
            continue
        pd.testing.assert_series_equal(got, expected, obj=where)


@pytest.mark.parametrize("name, params, date_columns, sort_by", QUERIES, ids=[q[0] for q in QUERIES])
def test_read_frame_gives_the_same_frame_on_sqlite_and_postgresql(reviewed, name, params, date_columns, sort_by):
    lite = _read(reviewed["sqlite"], name, params, date_columns, sort_by)
    pg = _read(reviewed["postgres"], name, params, date_columns, sort_by)
    _assert_same_frame(lite, pg, name)


def test_read_frame_keeps_nulls_empty_strings_nan_and_money_apart(reviewed):
    pg = _read(reviewed["postgres"], "report/decisions", DRY_RUN, ("review_date",), None)
    odd = pg[pg["account_masked"].isin(["9999****01", "9999****02"])]  # accounts 999,999,001 and 002
    assert odd["account_masked"].tolist() == ["9999****01", "9999****02"]
    assert odd["reason_1"].tolist() == ["", "R, \"quoted\"\nline"]
    assert odd["reason_2"].isna().tolist() == [True, False] and odd["reason_2"].iloc[1] == "中文"
    assert odd["guardrail"].isna().tolist() == [True, False] and odd["guardrail"].iloc[1] == ""
    assert odd["spend_ratio"].isna().tolist() == [True, False] and odd["spend_ratio"].iloc[1] == 2.0
    assert odd["old_limit_fen"].tolist() == [100_000, 2_000_000_000_000]
    arms = _read(reviewed["postgres"], "report/arm_counts", COUNTED, (), None)
    assert arms["limit_change_fen"].dtype == "Int64"  # PostgreSQL's numeric sum, exact, as SQLite's


def test_decisions_csv_is_the_same_file_on_sqlite_and_postgresql(reviewed):
    files = {}
    for name, engine in reviewed.items():
        handle = io.StringIO(newline="")
        with engine.begin() as conn:
            # the one difference: Python's csv module writes an empty string as it writes NULL, COPY
            # quotes it (""); decisions hold no empty strings, so the odd ones are made NULL here
            for column in ("reason_1", "guardrail"):
                conn.execute(text(f"update staged_decisions set {column} = null where {column} = ''"))
            written = reports._write_decisions_csv(conn, DRY_RUN, handle)
        files[name] = handle.getvalue()
        assert written == len(files[name].splitlines()) - 2  # less the header and one quoted line break
    assert files["postgres"].splitlines()[0].startswith("review_date,run_mode,account_masked,")
    assert ",2," in files["postgres"]  # a whole ratio without ".0"
    assert files["postgres"] == files["sqlite"]


def _query_returning(monkeypatch, sql: str) -> str:
    """A query name whose text is ``sql``, for reading crafted values through read_frame."""
    original = db.load_sql
    monkeypatch.setattr(db, "load_sql", lambda name: sql if name == "crafted" else original(name))
    return "crafted"


def test_read_frame_types_every_column_kind_exactly(postgres_warehouse, monkeypatch):
    name = _query_returning(monkeypatch, """
        select * from (values
            (1::smallint, 2::bigint, 1.5::real, 'NaN'::float8, true, date '2026-11-27', '' ,
             timestamp '2026-11-27 03:04:05.123456', 12345678901234::numeric, 1.25::numeric, 'v'::varchar),
            (null, null, null, 2.0, null, null, null, null, null, null, null)
        ) as t(small, big, re, dbl, flag, day, txt, ts, whole, frac, vc)
        where :day = date '2026-11-27'
    """)
    with postgres_warehouse.begin() as conn:
        frame = db.read_frame(conn, name, {"day": date(2026, 11, 27)})
    assert frame.dtypes.astype(str).to_dict() == {
        "small": "Int64", "big": "Int64", "re": "Float64", "dbl": "Float64", "flag": "boolean", "day": "string",
        "txt": "string", "ts": "datetime64[us]", "whole": "Int64", "frac": "object", "vc": "string"}
    first, second = frame.iloc[0], frame.iloc[1]
    assert (first["small"], first["big"], first["re"], first["flag"]) == (1, 2, 1.5, True)
    assert pd.isna(first["dbl"]) and second["dbl"] == 2.0  # NaN is read as missing, as pd.read_sql does
    assert (first["day"], first["txt"]) == ("2026-11-27", "") and pd.isna(second["txt"])
    assert first["ts"] == pd.Timestamp("2026-11-27 03:04:05.123456")
    assert first["whole"] == 12345678901234 and first["frac"] == Decimal("1.25") and second["frac"] is None


def test_read_frame_of_no_rows_has_the_columns(postgres_warehouse):
    with postgres_warehouse.begin() as conn:
        frame = db.read_frame(conn, "report/decisions", {"review_date": SECOND_DATE, "run_mode": "live"},
                              date_columns=("review_date",))
    assert frame.empty
    assert list(frame.columns)[:3] == ["review_date", "run_mode", "account_masked"] and frame.shape[1] == 28


def test_read_frame_binds_values_instead_of_writing_them_into_the_sql(reviewed):
    sneaky = {"review_date": SECOND_DATE, "run_mode": "x' or '1'='1"}
    with reviewed["postgres"].begin() as conn:
        assert db.read_frame(conn, "report/decisions", sneaky).empty
        assert len(db.read_frame(conn, "report/decisions", DRY_RUN)) > 0


def test_read_frame_refuses_a_column_type_it_cannot_read(postgres_warehouse, monkeypatch):
    name = _query_returning(monkeypatch, "select '{}'::json as payload")
    with postgres_warehouse.begin() as conn, pytest.raises(TypeError, match="'payload' of PostgreSQL type json"):
        db.read_frame(conn, name)


def test_bulk_insert_round_trips_every_kind_of_column_through_copy(postgres_warehouse):
    frame = pd.DataFrame({
        "k": [1, 2, 3],
        "i": pd.array([7, None, -2**62], dtype="Int64"),
        "f": [1.5, np.nan, 0.0],
        "b": [True, False, True],
        "nb": pd.array([True, None, False], dtype="boolean"),
        "s": ["a, \"b\"\nc", "", None],
        "st": pd.array(["中文", None, ""], dtype="string"),
        "d": pd.to_datetime(["2026-11-27", None, "2026-01-01 13:45"], format="ISO8601"),
        "od": [date(2026, 11, 27), None, date(2000, 2, 29)],
        "dec": [Decimal("12.34"), None, Decimal("-1")],
    })
    with postgres_warehouse.begin() as conn:
        conn.execute(text("create table round_trip (k int, i bigint, f double precision, b boolean, nb boolean, "
                          "s text, st text, d date, od date, dec numeric)"))
        assert db.bulk_insert(conn, "round_trip", frame) == 3
        rows = conn.execute(text("select * from round_trip order by k")).all()
    assert rows == [
        (1, 7, 1.5, True, True, "a, \"b\"\nc", "中文", date(2026, 11, 27), date(2026, 11, 27), Decimal("12.34")),
        (2, None, None, False, None, "", None, None, None, None),
        (3, -2**62, 0.0, True, False, None, "", date(2026, 1, 1), date(2000, 2, 29), Decimal("-1")),
    ]


def test_bulk_insert_writes_more_rows_than_one_chunk(postgres_warehouse, monkeypatch):
    monkeypatch.setattr(db, "COPY_CHUNK_ROWS", 7)
    frame = pd.DataFrame({"k": range(100), "s": [f"row {n}" for n in range(100)]})
    with postgres_warehouse.begin() as conn:
        conn.execute(text("create table chunked (k int primary key, s text)"))
        assert db.bulk_insert(conn, "chunked", frame) == 100
        assert conn.execute(text("select count(*), sum(k), min(s), max(s) from chunked")).one() == (
            100, 4950, "row 0", "row 99")
