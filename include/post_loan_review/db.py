"""The warehouse: one SQLAlchemy engine from one URL (SQLite by default, PostgreSQL in production),
the SQL files of ``sql/``, and bulk reads and writes of data frames."""

from __future__ import annotations

import functools
import io
from decimal import Decimal
from datetime import date
from pathlib import Path
from typing import Any, Callable, Mapping, TypeVar

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from sqlalchemy import Connection, Date, Engine, bindparam, column, create_engine, event, insert, inspect, table, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import TextClause

from post_loan_review.config import SQL_DIR, settings


@functools.cache
def _engine_for(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # one writer, readers never blocked
            cursor = dbapi_connection.cursor()
            cursor.execute("pragma journal_mode=wal")
            cursor.execute("pragma synchronous=normal")
            cursor.close()

        return engine
    if url.startswith("postgresql"):
        # a stuck statement or a lock held by a stuck session fails the task instead of hanging it
        timeouts = settings()
        return create_engine(url, pool_pre_ping=True, connect_args={"options": (
            f"-c statement_timeout={timeouts.pg_statement_timeout_ms} -c lock_timeout={timeouts.pg_lock_timeout_ms}")})
    return create_engine(url, pool_pre_ping=True)


def engine(url: str | None = None) -> Engine:
    """The engine for ``url``, else for ``PLR_DATABASE_URL``; one per URL per process."""
    return _engine_for(url or settings().database_url)


def is_postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


@functools.cache
def load_sql(name: str) -> str:
    """The text of ``sql/<name>.sql``."""
    path = SQL_DIR / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"no SQL file {path}")
    return path.read_text(encoding="utf-8")


def split_statements(sql: str) -> list[str]:
    """Statements of a DDL file: ours end with ';' at the end of a line and hold no ';' in strings."""
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";\n") if part.strip().strip(";")]


def statement(name: str, params: Mapping[str, Any]) -> TextClause:
    """``sql/<name>.sql`` as a statement; dates bind as SQL dates on every database."""
    return _bound(load_sql(name), params)


def _bound(sql: str, params: Mapping[str, Any]) -> TextClause:
    clause = text(sql)
    dates = [bindparam(key, type_=Date) for key, value in params.items()
             if isinstance(value, date) and key in clause._bindparams]
    return clause.bindparams(*dates)


def execute(conn: Connection, name: str, params: Mapping[str, Any] | None = None) -> int:
    """Run the one statement of ``sql/<name>.sql`` with bound parameters; rows affected."""
    params = dict(params or {})
    return conn.execute(statement(name, params), params).rowcount


# PostgreSQL's SQLSTATEs that a stage expects and answers, rather than fails on
UNIQUE_VIOLATION = "23505"
LOCK_NOT_AVAILABLE = "55P03"
Result = TypeVar("Result")


def unless_refused(conn: Connection, sqlstate: str, step: Callable[[], Result]) -> Result | None:
    """``step()`` inside a savepoint; None when the database refused it with ``sqlstate``: the
    savepoint is rolled back and the caller's transaction goes on. Any other error is raised."""
    try:
        with conn.begin_nested():
            return step()
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) != sqlstate:
            raise
        return None


def execute_returning(conn: Connection, name: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Run the one statement of ``sql/<name>.sql`` that writes and returns rows (``returning``,
    which COPY cannot wrap); its rows as a frame, fetched through the driver row by row: for
    results a task holds anyway (one shard's changes), not for bulk reads (``read_frame``)."""
    params = dict(params or {})
    result = conn.execute(statement(name, params), params)
    return pd.DataFrame(result.all(), columns=list(result.keys()))


def read_date(conn: Connection, name: str, params: Mapping[str, Any] | None = None) -> date | None:
    """The date in the first column of the first row of ``sql/<name>.sql``; None for no row or a
    null. SQLite gives dates as text, PostgreSQL as dates."""
    params = dict(params or {})
    value = conn.execute(statement(name, params), params).scalar()
    if value is None:
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def execute_script(conn: Connection, name: str, params: Mapping[str, Any] | None = None) -> None:
    """Run every statement of ``sql/<name>.sql`` in order, each with the bound ``params`` if given."""
    for sql in split_statements(load_sql(name)):
        if params is None:
            conn.exec_driver_sql(sql)
        else:
            conn.execute(_bound(sql, params), dict(params))


def read_frame(conn: Connection, name: str, params: Mapping[str, Any] | None = None,
               date_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """The rows of the query ``sql/<name>.sql`` as a data frame, date columns as datetime64.
    On PostgreSQL through COPY and Arrow's CSV reader: a million rows of 45 columns never become
    Python objects one by one. Both paths give Int64, Float64 (NaN read as NA), boolean (SQLite has
    none: its booleans are Int64 0/1), string for text and for dates outside ``date_columns``;
    PostgreSQL numeric (sums of bigint) as Int64 when every value is whole, else Decimal objects."""
    params = dict(params or {})
    if is_postgres(conn):
        frame = _pg_read_frame(conn, statement(name, params), params, date_columns)
    else:
        # nullable dtypes keep integer columns with gaps (money in fen) integers, not floats
        frame = pd.read_sql(statement(name, params), conn, params=params, dtype_backend="numpy_nullable")
    for name_of_date in date_columns:
        frame[name_of_date] = pd.to_datetime(frame[name_of_date])
    return frame


def copy_out(conn: Connection, name: str, params: Mapping[str, Any] | None, write: Callable[[bytes], Any]) -> int:
    """PostgreSQL only: stream the rows of ``sql/<name>.sql`` as CSV with a header (NULL as an
    empty field, booleans as t/f) to ``write`` in chunks of UTF-8 bytes; the rows written."""
    if not is_postgres(conn):
        raise NotImplementedError(f"copy_out needs PostgreSQL, not {conn.dialect.name}")
    params = dict(params or {})
    query, values = _driver_query(conn, statement(name, params), params)
    return _copy_to(conn.connection.driver_connection.cursor(), query, values, write)


class SchemaDriftError(RuntimeError):
    """The warehouse's tables lack columns this version of the code needs."""


def _create_tables(conn: Connection) -> list[str]:
    created = []
    for path in sorted((SQL_DIR / "schema").glob("*.sql")):
        execute_script(conn, f"schema/{path.stem}")
        created.append(path.stem.split("_", 1)[1])
    # the run's staging tables are unlogged on PostgreSQL (staging.py). Only while one still is
    # logged: the ALTER rewrites a logged table once, and even a no-op one would wait for a review
    # that is reading the table
    if is_postgres(conn) and len(read_frame(conn, "staging/logged_staging_tables")):
        execute_script(conn, "staging/unlog_staging_tables")
    # and the staging tables have no keys (sql/schema/10_staged_decisions.sql); dropped once, for
    # the same reason
    if is_postgres(conn) and len(read_frame(conn, "migrate/staging_keys")):
        execute_script(conn, "migrate/drop_staging_keys")
    # accounts keep the dates of their last decrease and increase (sql/schema/01_accounts.sql):
    # added to an older warehouse once, and filled from its ledger
    if "last_decrease_date" not in {column["name"] for column in inspect(conn).get_columns("accounts")}:
        execute_script(conn, "migrate/add_account_change_dates")
        execute_script(conn, "migrate/fill_account_change_dates")
    # the history tables' keys lead with the date (sql/schema/11_limit_decisions.sql): re-keyed
    # once, a rebuild of each index (`plr init-db` does it before a night). SQLite cannot change a
    # key: a demo warehouse made before keeps the old one, which is correct, only slower with age
    if is_postgres(conn):
        for table_name in read_frame(conn, "migrate/keys_led_by_account")["table_name"]:
            execute_script(conn, f"migrate/rekey_{table_name}")
    return created


def schema_drift(conn: Connection) -> list[str]:
    """The columns ``sql/schema`` defines that the warehouse's existing tables lack."""
    scratch = create_engine("sqlite://")
    with scratch.begin() as scratch_conn:
        _create_tables(scratch_conn)
    expected, actual = inspect(scratch), inspect(conn)
    present = set(actual.get_table_names())
    problems = []
    for table_name in expected.get_table_names():
        if table_name in present:
            have = {c["name"]: c["type"] for c in actual.get_columns(table_name)}
            missing = [c["name"] for c in expected.get_columns(table_name) if c["name"] not in have]
            if missing:
                problems.append(f"{table_name} lacks {', '.join(missing)}")
            for column in expected.get_columns(table_name):
                found = have.get(column["name"])
                if found is not None and _kind(found) and _kind(column["type"]) and _kind(found) != _kind(column["type"]):
                    problems.append(f"{table_name}.{column['name']} is {found}, expected {column['type']}")
    scratch.dispose()
    return problems


def _kind(sql_type) -> str | None:
    """The kind of values a column type holds (int, str, float, date, ...), the same on SQLite and
    PostgreSQL; None when SQLAlchemy cannot tell."""
    try:
        return sql_type.python_type.__name__
    except NotImplementedError:
        return None


def init_db(conn: Connection) -> list[str]:
    """Create every table of ``sql/schema`` that does not exist yet; the tables' names. Refuses a
    warehouse whose tables were made by an older version and lack columns."""
    created = _create_tables(conn)
    problems = schema_drift(conn)
    if problems:
        raise SchemaDriftError(
            f"the warehouse at {conn.engine.url.render_as_string(hide_password=True)} was made by an older "
            f"version of post-loan-review: {'; '.join(problems)}. For a demo warehouse, `plr generate` "
            "rebuilds it; a production warehouse needs a migration (docs/production.md).")
    return created


def rebuild(conn: Connection) -> list[str]:
    """Drop every warehouse table and create today's schema: for demo warehouses only."""
    execute_script(conn, "generate/drop_warehouse")
    return _create_tables(conn)


def merge_write_ahead_log(engine: Engine) -> None:
    """On SQLite, copy the write-ahead log into the database file after a stage committed. A
    stage's bulk writes can leave hundreds of MB in the log when another connection kept the
    automatic checkpoint from finishing, and every later read then looks pages up through the log:
    at 1M accounts the report took 70 s instead of 13 s. PASSIVE: it never waits for another
    task's transaction (shards may run side by side); what it cannot copy now, the next stage
    does. A no-op elsewhere."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("pragma wal_checkpoint(PASSIVE)")


def refresh_statistics(conn: Connection, *table_names: str) -> None:
    """ANALYZE tables that a stage just filled in bulk, inside its transaction (PostgreSQL counts
    the transaction's own new rows). Without it the planner still sees yesterday's empty staging
    tables, estimates one row and picks nested loops that make a set-based insert quadratic (at
    100,000 accounts: 213 s instead of under a second). SQLite plans without statistics here."""
    if not is_postgres(conn):
        return
    from psycopg import sql

    cursor = conn.connection.driver_connection.cursor()
    for table_name in table_names:
        cursor.execute(sql.SQL("analyze {}").format(sql.Identifier(table_name)))


def _db_values(frame: pd.DataFrame) -> pd.DataFrame:
    """Values both drivers bind: dates as ISO text, missing as None, numpy scalars as Python."""
    out = frame.copy()
    for name in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[name]):
            out[name] = out[name].dt.strftime("%Y-%m-%d")
    return out.astype(object).where(out.notna(), None)


def bulk_insert(conn: Connection, table_name: str, frame: pd.DataFrame) -> int:
    """Append ``frame`` to ``table_name`` inside the caller's transaction: COPY of Arrow-written CSV
    on PostgreSQL, one batched executemany on SQLite. Identifiers are quoted by the drivers' own
    composers."""
    if frame.empty:
        return 0
    if is_postgres(conn):
        return _pg_copy_in(conn, table_name, frame)
    columns = list(frame.columns)
    rows = _db_values(frame).itertuples(index=False, name=None)
    # SQLite's dialect compiles to qmark placeholders, in the order of ``columns``.
    statement = insert(table(table_name, *map(column, columns))).compile(dialect=conn.dialect)
    conn.exec_driver_sql(statement.string, list(rows))
    return len(frame)


# --- PostgreSQL: COPY with the values bound by the driver, CSV parsed and written by Arrow -------

COPY_CHUNK_ROWS = 100_000  # rows of a frame turned into CSV at a time by bulk_insert
_PG_NUMERIC = 1700
_PG_DATE = 1082
# the Arrow type each PostgreSQL column type's CSV text is parsed as, by type OID; numeric is
# parsed as text and made exact by _exact_numeric, dates stay ISO text as pd.read_sql gives them
_ARROW_TYPE_OF_PG = {
    16: pa.bool_(),                                   # boolean, written t/f
    20: pa.int64(), 21: pa.int64(), 23: pa.int64(),   # bigint, smallint, integer
    700: pa.float64(), 701: pa.float64(),             # real, double precision
    _PG_NUMERIC: pa.string(),
    _PG_DATE: pa.string(),
    1114: pa.timestamp("us"),                         # timestamp without time zone
    25: pa.string(), 1043: pa.string(), 1042: pa.string(), 19: pa.string(),  # text, varchar, char, name
    705: pa.string(),                                 # unknown: an untyped literal such as 'live'
}
# the pandas dtypes of Arrow columns: the nullable ones pd.read_sql(dtype_backend="numpy_nullable") gives
_PANDAS_DTYPE_OF_ARROW = {pa.int64(): pd.Int64Dtype(), pa.float64(): pd.Float64Dtype(),
                          pa.bool_(): pd.BooleanDtype(), pa.string(): pd.StringDtype()}


def _driver_query(conn: Connection, clause: TextClause, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """``clause`` compiled by the connection's dialect: the driver's SQL with named placeholders
    and the parameters as the dialect would send them (dates through the Date type). The values
    are never spliced into the text: psycopg binds them, client side for COPY."""
    compiled = clause.compile(dialect=conn.dialect)
    values = compiled.construct_params(params)  # raises when a parameter of the query is missing
    for key, value in values.items():
        processor = compiled.binds[key].type.bind_processor(conn.dialect) if key in compiled.binds else None
        values[key] = processor(value) if processor else value
    return compiled.string.rstrip().rstrip(";"), values


def _copy_to(cursor, query: str, values: Mapping[str, Any], write: Callable[[bytes], Any]) -> int:
    """COPY the rows of ``query`` to ``write`` as UTF-8 CSV with a header, chunk by chunk; the
    rows copied."""
    from psycopg import sql

    # the newline ends a trailing comment of the query's file before the closing parenthesis
    copy_statement = sql.SQL("copy ({}\n) to stdout with (format csv, header, encoding 'UTF8')").format(sql.SQL(query))
    with cursor.copy(copy_statement, values) as copy:
        for chunk in copy:
            write(chunk)
    return cursor.rowcount


def _pg_columns(cursor, query: str, values: Mapping[str, Any]) -> list[tuple[str, int]]:
    """The names and type OIDs of the query's columns, from running it with ``limit 0``."""
    cursor.execute(f"select * from ({query}\n) as q limit 0", values)
    return [(column.name, column.type_code) for column in cursor.description]


def _arrow_types(cursor, columns: list[tuple[str, int]], date_columns: tuple[str, ...]) -> dict[str, pa.DataType]:
    """The Arrow type to parse each column's CSV text as; dates the caller wants as datetimes are
    parsed straight into timestamps. A column type not mapped is refused by name."""
    types = {}
    for name, oid in columns:
        if oid not in _ARROW_TYPE_OF_PG:
            info = cursor.connection.adapters.types.get(oid)
            raise TypeError(f"read_frame cannot read column {name!r} of PostgreSQL type "
                            f"{info.name if info else oid}: cast it in the query to a type it knows")
        types[name] = pa.timestamp("us") if oid == _PG_DATE and name in date_columns else _ARROW_TYPE_OF_PG[oid]
    return types


def _exact_numeric(values: pa.ChunkedArray) -> pd.Series:
    """PostgreSQL numeric (what sum() of bigint gives) without ever passing through float: Int64
    when every value is a whole number within int64, as SQLite's integer sums are; else Decimal."""
    whole = pc.all(pc.match_substring_regex(values, r"^-?[0-9]{1,18}$")).as_py() is not False
    if whole:
        return pd.Series(values.cast(pa.int64()).to_pandas(types_mapper=_PANDAS_DTYPE_OF_ARROW.get))
    return pd.Series([None if value is None else Decimal(value) for value in values.to_pylist()], dtype=object)


def _pg_read_frame(conn: Connection, clause: TextClause, params: Mapping[str, Any],
                   date_columns: tuple[str, ...]) -> pd.DataFrame:
    """read_frame on PostgreSQL: COPY the rows out as CSV inside the caller's transaction and let
    Arrow parse them with the column types the server reports. In the CSV NULL is an unquoted
    empty field and an empty string a quoted one, so the two stay apart."""
    query, values = _driver_query(conn, clause, params)
    cursor = conn.connection.driver_connection.cursor()
    columns = _pg_columns(cursor, query, values)
    types = _arrow_types(cursor, columns, date_columns)
    buffer = io.BytesIO()
    _copy_to(cursor, query, values, buffer.write)
    buffer.seek(0)
    arrow = pa_csv.read_csv(buffer, convert_options=pa_csv.ConvertOptions(
        column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=False, null_values=[""],
        true_values=["t"], false_values=["f"]))
    frame = arrow.to_pandas(types_mapper=_PANDAS_DTYPE_OF_ARROW.get)
    for name, oid in columns:
        if oid == _PG_NUMERIC:
            frame[name] = _exact_numeric(arrow.column(name))
    return frame


def _arrow_batch(frame: pd.DataFrame) -> pa.Table:
    """Rows of a frame as Arrow columns for COPY: NaN and NA as null, datetimes as dates (the
    warehouse's columns are dates; today's ISO-text binding of SQLite does the same)."""
    try:
        batch = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise TypeError(f"bulk_insert cannot write these values through COPY: {error}") from error
    for index, field in enumerate(batch.schema):
        values = batch.column(index)
        if pa.types.is_timestamp(field.type):
            if field.type.tz is not None:  # the wall-clock date where the values were recorded
                values = pc.local_timestamp(values)
            batch = batch.set_column(index, field.name, pc.cast(values, pa.date32(), safe=False))
        elif pa.types.is_dictionary(field.type):
            batch = batch.set_column(index, field.name, values.cast(field.type.value_type))
    return batch


def _pg_copy_in(conn: Connection, table_name: str, frame: pd.DataFrame) -> int:
    """bulk_insert on PostgreSQL: COPY FROM STDIN fed with CSV written by Arrow, COPY_CHUNK_ROWS
    rows at a time. Arrow quotes every string and leaves null unquoted and empty, so an empty
    string stays an empty string and a missing value becomes NULL."""
    from psycopg import sql

    copy_statement = sql.SQL("copy {} ({}) from stdin with (format csv, encoding 'UTF8')").format(
        sql.Identifier(table_name), sql.SQL(", ").join(map(sql.Identifier, map(str, frame.columns))))
    options = pa_csv.WriteOptions(include_header=False, quoting_style="needed")
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy(copy_statement) as copy:
        for start in range(0, len(frame), COPY_CHUNK_ROWS):
            sink = pa.BufferOutputStream()
            pa_csv.write_csv(_arrow_batch(frame.iloc[start:start + COPY_CHUNK_ROWS]), sink, options)
            copy.write(memoryview(sink.getvalue()))
    return len(frame)
