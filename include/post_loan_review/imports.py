"""plr import: load a lender's snapshot files for one date into the warehouse, through the same
quality gate as the nightly review, all or nothing.

The input contract (docs/input-contract.md) is declared here, table by table: the file a lender
drops is named after the table (``repayment_snapshots.csv`` or ``.parquet``), its columns, their
types, units, keys and allowed values. A file is checked in three steps, and every fault found
names the file, the row (the line of a CSV file, header = line 1; the row number + 2 likewise for
Parquet), the column and the rule:

1. the contract: columns present, values of the right type (whole numbers, ISO dates, booleans,
   known codes), keys unique, the snapshot date equal to the date imported, accounts known;
2. the nightly quality gate's own rules (``quality.validate_table``, Great Expectations) on the
   score and repayment rows: score 350..950, non-negative amounts, plausible money, ...;
3. nothing else: a fault anywhere refuses every file, and nothing is written.

At the nightly review a few bad rows are quarantined and their accounts held; at import a bad
file is refused whole, so the lender fixes it at the source and the warehouse never holds half a
delivery. A re-import of a date replaces that date's rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from post_loan_review import db, quality

MAX_ERRORS_SHOWN = 30


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # int | float | date | bool | text
    required: bool = True  # the column must be in the file
    nullable: bool = False  # an empty value is allowed
    choices: tuple[str, ...] | None = None
    low: float | None = None
    high: float | None = None


def _money(name: str, nullable: bool = False, required: bool = True) -> Column:
    return Column(name, "int", required=required, nullable=nullable, low=0, high=quality.MAX_PLAUSIBLE_FEN)


def _count(name: str, high: float | None = None) -> Column:
    return Column(name, "int", low=0, high=high)


# table -> (columns, key, dated column that must equal the imported date)
CONTRACT: dict[str, tuple[tuple[Column, ...], tuple[str, ...], str | None]] = {
    "accounts": ((
        Column("account_id", "int", low=1),
        Column("customer_id", "int", low=1),
        Column("open_date", "date"),
        Column("segment", "text"),
        Column("preferred_language", "text", required=False, choices=("zh-CN", "en")),
        _money("approved_limit_fen"),
        _money("current_limit_fen", required=False),  # used for a new account only
        _money("customer_cap_fen", nullable=True, required=False),
        _money("outstanding_balance_fen"),
        Column("status", "text", choices=("active", "closed")),
        Column("has_open_appeal", "bool", required=False),
        Column("refused_automated_decisions", "bool", required=False),
    ), ("account_id",), None),
    "credit_score_snapshots": ((
        Column("account_id", "int", low=1),
        Column("snapshot_date", "date"),
        Column("score", "int", nullable=True),  # the gate's score_present / score_in_range judge it
        Column("model_version", "text", required=False, nullable=True),
    ), ("account_id",), "snapshot_date"),
    "repayment_snapshots": ((
        Column("account_id", "int", low=1),
        Column("snapshot_date", "date"),
        Column("statement_balance_fen", "int", nullable=True),
        Column("minimum_due_fen", "int", nullable=True),
        Column("amount_paid_fen", "int", nullable=True),
        Column("days_past_due", "int", nullable=True),
        Column("overdue_count_3m", "int", nullable=True),
        Column("overdue_count_6m", "int", nullable=True),
        Column("overdue_count_12m", "int", nullable=True),
        Column("min_payment_only_months", "int", nullable=True),
        Column("on_time_full_payment_months", "int", nullable=True),
        Column("utilisation_ratio", "float", nullable=True),
    ), ("account_id",), "snapshot_date"),
    "spending_snapshots": ((
        Column("account_id", "int", low=1),
        Column("snapshot_date", "date"),
        _count("txn_count_30d"),
        _money("txn_amount_30d_fen"),
        _count("baseline_txn_count_30d"),
        _money("baseline_txn_amount_30d_fen"),
        _money("largest_txn_30d_fen"),
        _count("days_since_last_txn", 36500),
    ), ("account_id",), "snapshot_date"),
    "credit_inquiry_snapshots": ((
        Column("account_id", "int", low=1),
        Column("snapshot_date", "date"),
        _count("inquiries_30d"),
        _count("inquiries_90d"),
        _money("external_debt_fen"),
        _money("external_debt_90d_ago_fen"),
    ), ("account_id",), "snapshot_date"),
    "security_events": ((
        Column("event_id", "int", low=1),
        Column("account_id", "int", low=1),
        Column("event_date", "date"),
        Column("event_type", "text", choices=("account_takeover_suspected", "device_change", "sim_change",
                                              "password_reset")),
    ), ("event_id",), "event_date"),
    "income_verifications": ((
        Column("account_id", "int", low=1),
        Column("verified_date", "date"),
        _money("monthly_income_fen"),
    ), ("account_id",), "verified_date"),
    "customer_profiles": ((
        Column("customer_id", "int", low=1),
        Column("phone_number", "text", required=False, nullable=True),
        Column("birth_year", "int", required=False, nullable=True, low=1900, high=2100),
        Column("sex", "text", required=False, nullable=True, choices=("female", "male")),
        Column("education", "text", required=False, nullable=True,
               choices=("graduate_school", "university", "high_school", "other")),
        Column("marital_status", "text", required=False, nullable=True, choices=("married", "single", "other")),
    ), ("customer_id",), None),
}
# load order: the account master first, so the snapshots' accounts are known
TABLE_ORDER = tuple(CONTRACT)
DATED_SNAPSHOTS = ("credit_score_snapshots", "repayment_snapshots", "spending_snapshots", "credit_inquiry_snapshots")
UPDATED_ACCOUNT_COLUMNS = ["account_id", "segment", "preferred_language", "approved_limit_fen", "customer_cap_fen",
                           "outstanding_balance_fen", "status", "has_open_appeal", "refused_automated_decisions"]
ACCOUNT_DEFAULTS = {"preferred_language": "zh-CN", "has_open_appeal": False, "refused_automated_decisions": False,
                    "customer_cap_fen": None}


class ImportRefused(ValueError):
    """The files break the contract or the quality gate; nothing was loaded. ``errors`` holds one
    line per fault: file, row, column, rule, value."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        shown = errors[:MAX_ERRORS_SHOWN]
        more = f"\n  ... and {len(errors) - len(shown)} more" if len(errors) > len(shown) else ""
        super().__init__(f"import refused, nothing loaded ({len(errors)} fault(s)):\n  " + "\n  ".join(shown) + more)


@dataclass
class Delivery:
    """One table's rows as delivered: raw text values, the source's name, the row numbers shown."""

    table: str
    source: str
    raw: pd.DataFrame
    rows: np.ndarray  # the row number shown in errors, per row of raw


def table_of(path: Path) -> str:
    name = path.name.removesuffix(".csv").removesuffix(".parquet")
    if name not in CONTRACT:
        raise ImportRefused([f"{path}: not a table of the input contract (file names: "
                             f"{', '.join(f'{t}.csv' for t in CONTRACT)}; or .parquet)"])
    return name


def read_delivery(path: str | Path) -> Delivery:
    """A CSV (UTF-8, comma, header row) or Parquet file, every value kept as delivered text."""
    path = Path(path)
    table = table_of(path)
    try:
        if path.suffix == ".parquet":
            raw = pd.read_parquet(path)
            raw = raw.astype(object).where(raw.notna(), None)
            raw = raw.apply(lambda c: c.map(lambda v: None if v is None else str(v)))  # once per column, not per row
        else:
            raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
            raw = raw.where(raw != "", None)
    except Exception as error:  # an unreadable file is a refusal, not a crash
        raise ImportRefused([f"{path}: cannot be read as {path.suffix[1:] or 'csv'}: {error}"]) from error
    return Delivery(table, str(path), raw, np.arange(len(raw)) + 2)


def delivery_from_frame(table: str, frame: pd.DataFrame, source: str) -> Delivery:
    """Rows made in memory (an adapter), checked exactly like a file's."""
    raw = frame.astype(object).where(frame.notna(), None)
    return Delivery(table, source, raw, np.arange(len(raw)) + 2)


def _fault(delivery: Delivery, mask: np.ndarray, column: str, rule: str, values: pd.Series | None) -> list[str]:
    index = np.flatnonzero(mask)
    shown = values.iloc[index].astype(object) if values is not None else pd.Series([None] * len(index), dtype=object)
    return [f"{delivery.source}: row {row}: column {column}: rule {rule}" + (f" (value {value!r})" if value is not None else "")
            for row, value in zip(delivery.rows[index], shown)]


def _parse(delivery: Delivery, snapshot_date: date) -> tuple[pd.DataFrame, list[str]]:
    """The contract's checks on one delivery; typed values and every fault."""
    columns, key, dated = CONTRACT[delivery.table]
    raw, errors = delivery.raw, []
    known = {c.name for c in columns}
    for name in raw.columns:
        if name not in known:
            errors.append(f"{delivery.source}: column {name}: rule column_known (the contract of {delivery.table} "
                          f"has {', '.join(sorted(known))})")
    typed = pd.DataFrame(index=raw.index)
    for spec in columns:
        if spec.name not in raw.columns:
            if spec.required:
                errors.append(f"{delivery.source}: column {spec.name}: rule columns_present (required column missing)")
            continue
        text = raw[spec.name].astype("string").str.strip()
        missing = text.isna().to_numpy()
        if not spec.nullable:
            errors += _fault(delivery, missing, spec.name, f"{spec.name}_present", None)
        if spec.kind in ("int", "float"):
            number = pd.to_numeric(text, errors="coerce")
            bad = ~missing & number.isna().to_numpy()
            if spec.kind == "int":
                bad |= ~missing & number.notna().to_numpy() & (number != number.round()).fillna(False).to_numpy()
            errors += _fault(delivery, bad, spec.name, f"{spec.name}_is_{'whole_number' if spec.kind == 'int' else 'number'}", text)
            ok = number.where(~bad)
            if spec.low is not None:
                errors += _fault(delivery, (ok < spec.low).fillna(False).to_numpy(), spec.name,
                                 f"{spec.name}_at_least_{spec.low:g}", text)
            if spec.high is not None:
                errors += _fault(delivery, (ok > spec.high).fillna(False).to_numpy(), spec.name,
                                 f"{spec.name}_at_most_{spec.high:g}", text)
            typed[spec.name] = ok.round().astype("Int64") if spec.kind == "int" else ok.astype("Float64")
        elif spec.kind == "date":
            value = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
            bad = ~missing & value.isna().to_numpy()
            errors += _fault(delivery, bad, spec.name, f"{spec.name}_is_iso_date", text)
            typed[spec.name] = value
        elif spec.kind == "bool":
            lowered = text.str.lower()
            value = lowered.map({"true": True, "t": True, "1": True, "false": False, "f": False, "0": False})
            bad = ~missing & value.isna().to_numpy()
            errors += _fault(delivery, bad, spec.name, f"{spec.name}_is_boolean", text)
            typed[spec.name] = value.astype("boolean")
        else:
            if spec.choices is not None:
                bad = ~missing & ~text.isin(spec.choices).fillna(False).to_numpy()
                errors += _fault(delivery, bad, spec.name, f"{spec.name}_in_set", text)
            typed[spec.name] = text
    if dated and dated in typed.columns:
        other = (typed[dated].notna() & (typed[dated] != pd.Timestamp(snapshot_date))).to_numpy()
        errors += _fault(delivery, other, dated, f"{dated}_is_import_date ({snapshot_date})", raw[dated])
    if all(k in typed.columns for k in key):
        repeated = typed.duplicated(list(key), keep="first").to_numpy() & typed[list(key)].notna().all(axis=1).to_numpy()
        errors += _fault(delivery, repeated, "+".join(key), f"{'_'.join(key)}_unique", raw[key[0]])
    return typed, errors


def _gate(delivery: Delivery, typed: pd.DataFrame, known_ids: pd.Series) -> list[str]:
    """The nightly gate's rules on score and repayment rows: any row that would be quarantined
    at review refuses the file at import."""
    if delivery.table not in quality.REQUIRED_COLUMNS:
        return []
    frame = typed.copy()
    frame["known_account_id"] = frame["account_id"].where(frame["account_id"].isin(known_ids))
    frame = frame[frame["account_id"].notna()]
    results, quarantined = quality.validate_table(delivery.table, frame)
    row_of = pd.Series(delivery.rows[frame.index.to_numpy()], index=frame["account_id"].astype("int64").to_numpy())
    row_of = row_of[~row_of.index.duplicated()]
    errors = [f"{delivery.source}: column {r.column_name or '-'}: rule {r.expectation} (critical: {r.details})"
              for r in results.itertuples() if r.severity == "critical" and not r.success]
    for bad in quarantined.sort_values(["account_id", "rule"]).itertuples():
        errors.append(f"{delivery.source}: row {row_of.get(bad.account_id, '?')}: column {bad.column_name}: "
                      f"rule {bad.rule} (value {bad.bad_value!r})")
    return errors


def check(conn: Connection, deliveries: list[Delivery], snapshot_date: date) -> dict[str, pd.DataFrame]:
    """Every check on every delivery; the typed rows by table, or ImportRefused with every fault."""
    errors: list[str] = []
    seen: dict[str, str] = {}
    for delivery in deliveries:
        if delivery.table in seen:
            errors.append(f"{delivery.source}: rule one_file_per_table ({delivery.table} also in {seen[delivery.table]})")
        seen[delivery.table] = delivery.source
    typed: dict[str, pd.DataFrame] = {}
    for delivery in sorted(deliveries, key=lambda d: TABLE_ORDER.index(d.table)):
        frame, faults = _parse(delivery, snapshot_date)
        typed[delivery.table], errors = frame, errors + faults
    existing = db.read_frame(conn, "import/account_ids")["account_id"].astype("int64")
    known = pd.concat([existing, typed["accounts"]["account_id"].dropna().astype("int64")]) if "accounts" in typed else existing
    for delivery in deliveries:
        frame = typed[delivery.table]
        if "account_id" in frame.columns and delivery.table != "accounts":
            if delivery.table in quality.REQUIRED_COLUMNS and not errors:
                errors += _gate(delivery, frame, known)  # the gate names unknown accounts itself
            elif delivery.table not in quality.REQUIRED_COLUMNS:
                unknown = (frame["account_id"].notna() & ~frame["account_id"].isin(known)).to_numpy()
                errors += _fault(delivery, unknown, "account_id", "account_known", delivery.raw.get("account_id"))
    if errors:
        raise ImportRefused(errors)
    return typed


def load(conn: Connection, typed: Mapping[str, pd.DataFrame], snapshot_date: date) -> dict[str, int]:
    """Write checked rows inside the caller's transaction; rows written per table. Accounts are
    upserted (a known account's current limit, freeze and review stamp stay the reviews' own:
    an import never un-freezes an account nor resets a limit a review set); the date's snapshot,
    event and verification rows are replaced; profiles are replaced per customer."""
    written: dict[str, int] = {}
    params = {"snapshot_date": snapshot_date}
    for table in TABLE_ORDER:
        if table not in typed:
            continue
        frame = typed[table]
        if table == "accounts":
            frame = frame.assign(**{k: v for k, v in ACCOUNT_DEFAULTS.items() if k not in frame.columns})
            if "current_limit_fen" not in frame.columns:
                frame = frame.assign(current_limit_fen=frame["approved_limit_fen"])
            frame["current_limit_fen"] = frame["current_limit_fen"].fillna(frame["approved_limit_fen"])
            existing = db.read_frame(conn, "import/account_ids")["account_id"].astype("int64")
            is_new = ~frame["account_id"].isin(existing)
            db.bulk_insert(conn, "accounts", frame[is_new].assign(limit_set_by_review_date=None))
            updates = db._db_values(frame.loc[~is_new, UPDATED_ACCOUNT_COLUMNS])
            if len(updates):
                conn.execute(db.statement("import/update_account", {}), updates.to_dict("records"))
        elif table == "customer_profiles":
            ids = frame[["customer_id"]].astype(object)
            if len(ids):
                conn.execute(db.statement("import/delete_customer_profile", {}), ids.to_dict("records"))
            db.bulk_insert(conn, table, frame)
        else:
            db.execute_script(conn, f"import/clear_{table}", params)
            db.bulk_insert(conn, table, frame)
        written[table] = len(frame)
    return written


def import_deliveries(deliveries: list[Delivery], snapshot_date: date, engine=None) -> dict[str, int]:
    """Check every delivery, then load them all in one transaction; nothing is written when any
    check fails."""
    engine = engine or db.engine()
    with engine.begin() as conn:
        db.init_db(conn)
        typed = check(conn, deliveries, snapshot_date)
        return load(conn, typed, snapshot_date)


def import_files(paths: list[str | Path], snapshot_date: date) -> dict[str, int]:
    """``plr import --date D PATH...``: files, or directories whose contract files are all taken."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix in (".csv", ".parquet"))
        elif path.is_file():
            files.append(path)
        else:
            raise ImportRefused([f"{path}: no such file or directory"])
    if not files:
        raise ImportRefused(["no .csv or .parquet file given"])
    return import_deliveries([read_delivery(p) for p in files], snapshot_date)
