"""validate_snapshots: the Great Expectations quality gate on the snapshots of a review date.

Each rule is declared here with its threshold. ``critical`` rules stop the run before anything is
decided. ``row`` rules quarantine the rows that break them (their accounts get no action) and only
stop the run when more than ``MAX_BAD_ROW_SHARE`` of the rows break them: a feed that is mostly
broken is an incident, not a few bad rows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable

import pandas as pd
from sqlalchemy import Connection

from post_loan_review import db
from post_loan_review.runs import ReviewRun
from post_loan_review.shards import WHOLE_BOOK, Shard

MAX_BAD_ROW_SHARE = 0.01
ROW_COUNT_TOLERANCE = 0.10  # today's rows within ±10 % of the previous snapshot's


# failures a later try can cure: the feed has not (fully) arrived yet
LATE_DATA_RULES = frozenset({"snapshot_present", "row_count_stable"})


class QualityGateError(RuntimeError):
    """A critical expectation failed: the run stops before any decision is made.
    ``retryable`` is true when only late-data rules failed, so a retry may find the data."""

    def __init__(self, message: str, retryable: bool = False):
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class Rule:
    name: str
    severity: str  # critical | row
    column: str | None
    expectation: Callable[..., Any]
    kwargs: dict[str, Any] = field(default_factory=dict)


MAX_PLAUSIBLE_FEN = 10**11  # a billion yuan: no consumer credit line comes near it
# numeric columns of each snapshot: text in them is quarantined, not allowed to stop or crash a run
NUMERIC_COLUMNS = {
    "credit_score_snapshots": ["score"],
    "repayment_snapshots": [
        "statement_balance_fen", "minimum_due_fen", "amount_paid_fen", "days_past_due",
        "overdue_count_3m", "overdue_count_6m", "overdue_count_12m", "min_payment_only_months",
        "on_time_full_payment_months", "utilisation_ratio",
    ],
}
MONEY_COLUMNS = ["statement_balance_fen", "minimum_due_fen", "amount_paid_fen"]
IS_NUMBER, RAW = "__is_number", "__raw"  # the gate's helper columns beside a numeric column


def _rules(table_name: str) -> list[Rule]:
    """The column and row rules of one table, run on a shard's rows; the table-level rules
    (present, stable row count) judge the whole book in :func:`table_level_results`."""
    import great_expectations.expectations as gxe

    mostly = 1 - MAX_BAD_ROW_SHARE

    def row_rule(name, column, expectation, **kwargs):
        return Rule(name, "row", column, expectation, {"column": column, "mostly": mostly, **kwargs})

    def non_negative(column):
        return row_rule(f"{column}_non_negative", column, gxe.ExpectColumnValuesToBeBetween, min_value=0)

    rules = [
        Rule("account_id_unique", "critical", "account_id", gxe.ExpectColumnValuesToBeUnique,
             {"column": "account_id"}),
        Rule("account_id_present", "critical", "account_id", gxe.ExpectColumnValuesToNotBeNull,
             {"column": "account_id"}),
        row_rule("account_known", "known_account_id", gxe.ExpectColumnValuesToNotBeNull),
    ]
    # text where a number belongs (a feed that formats '1,000.00', writes 'NaN' or 'abc')
    rules += [row_rule(f"{column}_is_number", f"{column}{IS_NUMBER}", gxe.ExpectColumnValuesToBeInSet,
                       value_set=[True]) for column in NUMERIC_COLUMNS[table_name]]
    if table_name == "credit_score_snapshots":
        rules += [
            row_rule("score_present", f"score{RAW}", gxe.ExpectColumnValuesToNotBeNull),
            row_rule("score_in_range", "score", gxe.ExpectColumnValuesToBeBetween, min_value=350, max_value=950),
        ]
    else:
        # present: a value was delivered (text counts as delivered; _is_number judges it)
        rules += [row_rule(f"{column}_present", f"{column}{RAW}", gxe.ExpectColumnValuesToNotBeNull)
                  for column in NUMERIC_COLUMNS[table_name]]
        rules += [non_negative(column) for column in NUMERIC_COLUMNS[table_name] if column != "utilisation_ratio"]
        rules += [row_rule(f"{column}_in_range", column, gxe.ExpectColumnValuesToBeBetween, max_value=MAX_PLAUSIBLE_FEN)
                  for column in MONEY_COLUMNS]
        rules.append(row_rule("utilisation_in_range", "utilisation_ratio", gxe.ExpectColumnValuesToBeBetween,
                              min_value=0, max_value=5))
    return rules


def _shown(column: str | None) -> str | None:
    """The feed's own column name behind a helper column of the gate."""
    return None if column is None else column.removesuffix(IS_NUMBER).removesuffix(RAW)


def _coerce_numbers(table_name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Numeric columns as numbers (text becomes missing), with a flag column saying which values
    were not numbers and the raw values kept for the quarantine."""
    frame = frame.copy()
    for column in NUMERIC_COLUMNS[table_name]:
        raw = frame[column]
        # plain float64 (missing as NaN): Great Expectations compares numpy columns vectorised but
        # maps a Python function over every value of a nullable Int64 column (5x slower). Only the
        # checks see these floats, exact for any amount below 2**53 fen; decisions never do.
        number = pd.to_numeric(raw, errors="coerce").astype("float64")
        frame[f"{column}{IS_NUMBER}"] = (raw.isna() | number.notna()).to_numpy(dtype=bool)
        frame[f"{column}{RAW}"] = raw
        frame[column] = number
    return frame


REQUIRED_COLUMNS = {
    "credit_score_snapshots": ["account_id", "snapshot_date", "score"],
    "repayment_snapshots": [
        "account_id", "snapshot_date", "statement_balance_fen", "minimum_due_fen", "amount_paid_fen",
        "days_past_due", "overdue_count_3m", "overdue_count_6m", "overdue_count_12m",
        "min_payment_only_months", "on_time_full_payment_months", "utilisation_ratio",
    ],
}


def _gx_batch(table_name: str, frame: pd.DataFrame):
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("warehouse").add_dataframe_asset(table_name)
    return asset.add_batch_definition_whole_dataframe("snapshot_date").get_batch(
        batch_parameters={"dataframe": frame})


def validate_table(table_name: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the suite of ``table_name`` on ``frame`` (one shard's rows): (results, quarantined rows)."""
    import great_expectations as gx

    missing = [c for c in REQUIRED_COLUMNS[table_name] if c not in frame.columns]
    if missing:
        raise QualityGateError(f"{table_name}: required column(s) {', '.join(missing)} missing "
                               f"(rule columns_present); the snapshot feed changed shape")
    frame = _coerce_numbers(table_name, frame)
    rules = _rules(table_name)
    batch = _gx_batch(table_name, frame)  # the context must exist before the suite
    suite = gx.ExpectationSuite(name=table_name)
    for rule in rules:
        suite.add_expectation(rule.expectation(**rule.kwargs, meta={"rule": rule.name}))
    validation = batch.validate(suite, result_format={
        "result_format": "COMPLETE", "unexpected_index_column_names": ["account_id"]})

    by_name = {rule.name: rule for rule in rules}
    results, quarantined = [], []
    lookup = None  # the rows by account, built once, and only when some row broke a rule
    for outcome in validation.results:
        rule = by_name[outcome.expectation_config.meta["rule"]]
        result = outcome.result or {}
        unexpected = result.get("unexpected_index_list") or []
        error = None
        if outcome.exception_info and outcome.exception_info.get("raised_exception"):
            detail = error = outcome.exception_info.get("exception_message")
        else:
            detail = f"{result.get('unexpected_count', 0)} of {result.get('element_count', len(frame))} rows broke it"
        results.append({
            "table_name": table_name, "expectation": rule.name, "column_name": _shown(rule.column),
            "severity": "critical" if rule.severity == "critical" else "row",
            "success": bool(outcome.success),
            "unexpected_count": int(result.get("unexpected_count", 0) or 0),
            "element_count": int(result.get("element_count", len(frame)) or 0),
            "missing_count": int(result.get("missing_count", 0) or 0),
            "details": detail,
            "error": error,
        })
        if rule.severity == "row" and unexpected:
            bad = pd.DataFrame(unexpected)
            column = _shown(rule.column)
            if lookup is None:
                lookup = frame.drop_duplicates("account_id").set_index("account_id")
            shown = lookup.loc[bad["account_id"], f"{column}{RAW}" if column in NUMERIC_COLUMNS[table_name]
                               else rule.column]
            quarantined.append(pd.DataFrame({
                "table_name": table_name,
                "account_id": bad["account_id"].astype("int64").to_numpy(),
                "rule": rule.name,
                "column_name": column,
                "bad_value": shown.astype(object).where(shown.notna(), None).map(
                    lambda v: None if v is None else str(v)).to_numpy(),
            }))
    quarantine = (pd.concat(quarantined, ignore_index=True).drop_duplicates(["account_id", "rule"])
                  if quarantined else pd.DataFrame(columns=["table_name", "account_id", "rule", "column_name", "bad_value"]))
    return pd.DataFrame(results), quarantine


def _describe_failures(results: pd.DataFrame) -> str | None:
    """Every failed rule, critical ones first: where (table.column), which rule, what was seen."""
    failed = results[~results["success"]].sort_values("severity")
    if failed.empty:
        return None
    lines = []
    for row in failed.itertuples():
        where = f"{row.table_name}.{row.column_name}" if pd.notna(row.column_name) else row.table_name
        kind = "critical rule" if row.severity == "critical" else f"row rule (over {MAX_BAD_ROW_SHARE:.0%} of rows)"
        lines.append(f"{where} broke {kind} {row.expectation}: {row.details}")
    return "; ".join(lines)


SNAPSHOT_QUERIES = (("credit_score_snapshots", "review/credit_score_snapshot_rows"),
                    ("repayment_snapshots", "review/repayment_snapshot_rows"))
RESULT_COLUMNS = ["table_name", "expectation", "column_name", "severity", "success", "unexpected_count",
                  "element_count", "details"]


def validate_shard(conn: Connection, run: ReviewRun, shard: Shard = WHOLE_BOOK) -> dict[str, Any]:
    """Run the suites on one shard's score and repayment rows of the run's date; store the
    shard's results and replace its quarantined rows. The verdict is the quality gate's."""
    params = {"review_date": run.review_date, "run_mode": run.run_mode, **shard.params()}
    all_results, all_quarantined = [], []
    for table_name, query in SNAPSHOT_QUERIES:
        frame = db.read_frame(conn, query, {"snapshot_date": run.review_date, **shard.params()})
        results, quarantined = validate_table(table_name, frame)
        all_results.append(results)
        all_quarantined.append(quarantined)
    results = pd.concat(all_results, ignore_index=True)
    quarantined = pd.concat(all_quarantined, ignore_index=True)
    db.execute(conn, "review/clear_shard_quality_results", params)
    db.execute(conn, "review/clear_quarantined_rows", params)
    db.bulk_insert(conn, "shard_quality_results", results.drop(columns="details").assign(
        review_date=pd.Timestamp(run.review_date), run_mode=run.run_mode,
        shard_count=shard.count, shard=shard.index))
    db.bulk_insert(conn, "quarantined_rows", quarantined.assign(
        review_date=pd.Timestamp(run.review_date), run_mode=run.run_mode))
    return {"shard": shard.label, "rows_validated": int(results.groupby("table_name")["element_count"].max().sum()),
            "rows_quarantined": len(quarantined), "failed_on_shard": int((~results["success"]).sum())}


def _book_results(shard_results: pd.DataFrame) -> pd.DataFrame:
    """The shards' results added up per expectation and judged for the whole book: a critical
    rule holds when it held on every shard; a row rule when at most MAX_BAD_ROW_SHARE of the
    values it judged (GX's ``mostly``: nulls it ignores are not counted) broke it."""
    keys = ["table_name", "expectation", "column_name", "severity"]
    grouped = shard_results.assign(held=shard_results["success"].astype(bool),
                                   column_name=shard_results["column_name"].fillna("")).groupby(keys, sort=False)
    book = grouped.agg(held=("held", "all"), unexpected_count=("unexpected_count", "sum"),
                       element_count=("element_count", "sum"), missing_count=("missing_count", "sum"),
                       error=("error", "first")).reset_index()
    judged = (book["element_count"] - book["missing_count"]).clip(lower=1)
    within_share = (judged - book["unexpected_count"]) / judged >= 1 - MAX_BAD_ROW_SHARE
    book["success"] = (book["held"] & (book["severity"] == "critical")) | (
        (book["severity"] == "row") & within_share & book["error"].isna())
    counted = book["unexpected_count"].astype(str) + " of " + book["element_count"].astype(str) + " rows broke it"
    book["details"] = book["error"].where(book["error"].notna(), counted)
    book["column_name"] = book["column_name"].replace("", None)
    return book[RESULT_COLUMNS]


def table_level_results(today: dict[str, int], previous: dict[str, int], reviewable: int) -> pd.DataFrame:
    """``snapshot_present`` and ``row_count_stable`` per snapshot table, from the whole book's row
    counts today and on the previous snapshot date (table name -> rows)."""
    rows = []
    for table_name, _ in SNAPSHOT_QUERIES:
        observed = today.get(table_name, 0)
        rows.append((table_name, "snapshot_present", observed >= 1, observed, "at least 1"))
        # without an earlier snapshot, a feed should still cover the reviewable accounts
        expected = previous.get(table_name) or reviewable
        if expected:
            low, high = int(expected * (1 - ROW_COUNT_TOLERANCE)), int(expected * (1 + ROW_COUNT_TOLERANCE))
            rows.append((table_name, "row_count_stable", low <= observed <= high, observed, f"between {low} and {high}"))
    return pd.DataFrame([{
        "table_name": table_name, "expectation": rule, "column_name": None, "severity": "critical",
        "success": bool(held), "unexpected_count": 0, "element_count": observed,
        "details": f"observed {observed}; expected {bounds}",
    } for table_name, rule, held, observed, bounds in rows], columns=RESULT_COLUMNS)


def _row_counts(conn: Connection, snapshot_date: date | None) -> dict[str, int]:
    if snapshot_date is None:
        return {}
    counts = db.read_frame(conn, "review/snapshot_row_counts", {"snapshot_date": snapshot_date})
    return dict(zip(counts["table_name"], counts["row_count"].astype(int)))


def quality_gate(conn: Connection, run: ReviewRun, previous_snapshot_date: date | None,
                 shard_count: int = 1) -> dict[str, Any]:
    """Judge the whole book from every shard's results and the table-level row counts; store
    the verdict per expectation in ``quality_results``. ``failure`` in the answer names table,
    column and rule of a failed gate; the caller commits the results first, then stops the run."""
    params = {"review_date": run.review_date, "run_mode": run.run_mode, "shard_count": shard_count}
    shard_results = db.read_frame(conn, "review/shard_quality_results", params)
    validated = set(shard_results["shard"].astype(int))
    missing = sorted(set(range(shard_count)) - validated)
    if missing:
        raise RuntimeError(f"quality_gate {run.review_date}: shard(s) {', '.join(str(m + 1) for m in missing)} "
                           f"of {shard_count} have no validation results; validate them first")
    reviewable = int(db.read_frame(conn, "review/reviewable_account_count", {})["reviewable_accounts"].iloc[0])
    table_level = table_level_results(_row_counts(conn, run.review_date), _row_counts(conn, previous_snapshot_date),
                                      reviewable)
    results = pd.concat([table_level, _book_results(shard_results)], ignore_index=True)
    db.execute(conn, "review/clear_quality_results", params)
    db.bulk_insert(conn, "quality_results", results.assign(review_date=pd.Timestamp(run.review_date),
                                                           run_mode=run.run_mode))
    quarantine = db.read_frame(conn, "review/quarantine_counts", params).iloc[0]
    failure = _describe_failures(results)
    failed_rules = set(results.loc[~results["success"], "expectation"])
    return {
        "failure": f"validate_snapshots {run.review_date}: {failure}" if failure else None,
        "retryable": bool(failed_rules) and failed_rules <= LATE_DATA_RULES,
        "expectations": len(results),
        "rows_quarantined": int(quarantine["rows_quarantined"]),
        "accounts_quarantined": int(quarantine["accounts_quarantined"]),
    }


def validate_snapshots(conn: Connection, run: ReviewRun, previous_snapshot_date: date | None) -> dict[str, Any]:
    """The whole gate in one go, for callers that do not shard (simulation): validate the book
    as one shard, then judge it."""
    validate_shard(conn, run, WHOLE_BOOK)
    return quality_gate(conn, run, previous_snapshot_date, shard_count=1)
