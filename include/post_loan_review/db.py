"""The warehouse: one SQLAlchemy engine from one URL (SQLite by default, PostgreSQL in production),
the SQL files of ``sql/``, and bulk reads and writes of data frames."""

from __future__ import annotations

import functools
from datetime import date
from pathlib import Path
from typing import Any, Mapping

import pandas as pd
from sqlalchemy import Connection, Date, Engine, bindparam, column, create_engine, event, insert, inspect, table, text
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
    clause = text(load_sql(name))
    dates = [bindparam(key, type_=Date) for key, value in params.items()
             if isinstance(value, date) and key in clause._bindparams]
    return clause.bindparams(*dates)


def execute(conn: Connection, name: str, params: Mapping[str, Any] | None = None) -> int:
    """Run the one statement of ``sql/<name>.sql`` with bound parameters; rows affected."""
    params = dict(params or {})
    return conn.execute(statement(name, params), params).rowcount


def execute_script(conn: Connection, name: str) -> None:
    """Run every statement of ``sql/<name>.sql`` in order (statements without parameters)."""
    for sql in split_statements(load_sql(name)):
        conn.exec_driver_sql(sql)


def read_frame(conn: Connection, name: str, params: Mapping[str, Any] | None = None,
               date_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """The rows of the query ``sql/<name>.sql`` as a data frame, date columns as datetime64."""
    params = dict(params or {})
    # nullable dtypes keep integer columns with gaps (money in fen) integers, not floats
    frame = pd.read_sql(statement(name, params), conn, params=params, dtype_backend="numpy_nullable")
    for name_of_date in date_columns:
        frame[name_of_date] = pd.to_datetime(frame[name_of_date])
    return frame


class SchemaDriftError(RuntimeError):
    """The warehouse's tables lack columns this version of the code needs."""


def _create_tables(conn: Connection) -> list[str]:
    created = []
    for path in sorted((SQL_DIR / "schema").glob("*.sql")):
        execute_script(conn, f"schema/{path.stem}")
        created.append(path.stem.split("_", 1)[1])
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


def _db_values(frame: pd.DataFrame) -> pd.DataFrame:
    """Values both drivers bind: dates as ISO text, missing as None, numpy scalars as Python."""
    out = frame.copy()
    for name in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[name]):
            out[name] = out[name].dt.strftime("%Y-%m-%d")
    return out.astype(object).where(out.notna(), None)


def bulk_insert(conn: Connection, table_name: str, frame: pd.DataFrame) -> int:
    """Append ``frame`` to ``table_name`` inside the caller's transaction: COPY on PostgreSQL,
    one batched executemany on SQLite. Identifiers are quoted by the drivers' own composers."""
    if frame.empty:
        return 0
    columns = list(frame.columns)
    rows = _db_values(frame).itertuples(index=False, name=None)
    if is_postgres(conn):
        from psycopg import sql

        copy_statement = sql.SQL("copy {} ({}) from stdin").format(
            sql.Identifier(table_name), sql.SQL(", ").join(map(sql.Identifier, columns)))
        cursor = conn.connection.driver_connection.cursor()
        with cursor.copy(copy_statement) as copy:
            for row in rows:
                copy.write_row(row)
        return len(frame)
    # SQLite's dialect compiles to qmark placeholders, in the order of ``columns``.
    statement = insert(table(table_name, *map(column, columns))).compile(dialect=conn.dialect)
    conn.exec_driver_sql(statement.string, list(rows))
    return len(frame)
