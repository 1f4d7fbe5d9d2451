"""build_report: the review report of one run, from the warehouse to three files.

``<report_dir>/<review date>/<run mode>/`` receives

- ``report.html``: self-contained (inline CSS and SVG charts, no script, no external URL), with
  every account id masked;
- ``decisions.csv``: every staged decision of the run, all columns, full ids, money in fen;
- ``summary.json``: the run's numbers, also returned by :func:`build_report`.

Totals are aggregated in SQL (``sql/report/``), those of the decisions from what the
reassessment shards counted (``shard_counts``), and the CSV is streamed in batches, so a run of
millions of accounts never sits in memory. Each file is written under a temporary name beside it
and moved into place with ``os.replace``, so a re-run replaces it whole and a reader never sees
half a file.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import functools
import json
import os
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Mapping

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine

from post_loan_review import db, portfolio, report_sections
from post_loan_review.drift import PSI_SHIFTED, PSI_WATCH, SCORE_BIN_EDGES, psi_band, psi_from_counts, score_counts
from post_loan_review.config import TEMPLATE_DIR
from post_loan_review.guardrails import GUARDRAILS, GUARDRAILS_ZH
from post_loan_review.money import format_yuan
from post_loan_review.report_charts import grouped_bar_chart, hbar_chart
from post_loan_review.policy import ACTIONS, LOWERING_ACTIONS, Policy, PolicyError, load_policy
from post_loan_review.runs import ReviewRun
from post_loan_review.snapshots import previous_snapshot_date

TOP_REASONS = 10
CSV_BATCH_ROWS = 50_000
DECISION_FLOAT_COLUMNS = ("spend_ratio", "largest_txn_ratio")  # the double precision columns of decisions.csv

REPORT_FILE, DECISIONS_FILE, SUMMARY_FILE = "report.html", "decisions.csv", "summary.json"

ACTION_LABELS = {"DECREASE": "降额 decrease", "DECREASE_TO_FLOOR": "降至底线 to floor",
                 "FREEZE": "冻结 freeze", "RESTORE": "恢复 restore", "MANUAL_REVIEW": "人工复核 manual review",
                 "HOLD": "维持 hold"}
ACTION_COLOURS = {"DECREASE": "#e07b39", "DECREASE_TO_FLOOR": "#c8414b", "FREEZE": "#5b4b8a",
                  "RESTORE": "#2f9e62", "MANUAL_REVIEW": "#3a8fb7", "HOLD": "#a3acb9"}
# account ids are long digit runs; masked wherever free text reaches the report
_ACCOUNT_ID_LIKE = re.compile(r"\d{9,}")


# --- pure helpers ----------------------------------------------------------------------------

def mask_account_id(account_id: Any) -> str:
    """An account id fit for a report: ``100000001`` becomes ``1000****01``."""
    text = str(account_id)
    return f"{text[:4]}****{text[-2:]}" if len(text) > 6 else f"****{text[-2:]}"


def _mask_ids_in_text(text: Any) -> str:
    return _ACCOUNT_ID_LIKE.sub(lambda match: mask_account_id(match.group()), str(text))


def change_pct(before: int, after: int) -> float | None:
    return None if before == 0 else (after - before) * 100 / before


def format_pct(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "n/a"
    if signed:
        return f"{value:+.2f} %"
    return "<0.1 %" if 0 < value < 0.05 else f"{value:.1f} %"


def format_summary(summary: Mapping[str, Any]) -> str:
    """A short text of a run's summary for the command line."""
    mode = "DRY RUN, nothing applied" if summary["run_mode"] == "dry_run" else "live"
    before, after = int(summary["exposure_before_fen"]), int(summary["exposure_after_fen"])
    actions = summary["actions"]
    width = max(len(action) for action in actions) if actions else 0
    lines = [
        f"Review {summary['review_date']} ({mode}), policy {summary['policy_version']}",
        f"Accounts reviewed: {summary['accounts_reviewed']:,} ({summary['changes']:,} changed)",
        *(f"  {action:<{width}}  {count:>12,}" for action, count in actions.items()),
        f"Exposure before: {format_yuan(before)}",
        f"Exposure after:  {format_yuan(after)}",
        f"Change: {format_pct(change_pct(before, after), signed=True)}",
    ]
    return "\n".join(lines)


# --- reading the run -------------------------------------------------------------------------

def _int_sum(values: Iterable[Any]) -> int:
    """An exact integer sum of a few per-group totals (Decimal on PostgreSQL, int on SQLite)."""
    return sum(int(value) for value in values if value is not None and not pd.isna(value))


def _summary(run: ReviewRun, groups: pd.DataFrame, reasons: pd.DataFrame, quality: pd.DataFrame,
             quarantined: pd.DataFrame, previous_date: date | None, psi: float | None) -> dict[str, Any]:
    actions = {action: 0 for action in ACTIONS}
    for action, accounts in zip(groups["action"], groups["accounts"]):
        actions[str(action)] = actions.get(str(action), 0) + int(accounts)
    guardrails: dict[str, int] = {}
    for guardrail, accounts in zip(groups["guardrail"], groups["accounts"]):
        if guardrail is not None and not pd.isna(guardrail):
            guardrails[str(guardrail)] = guardrails.get(str(guardrail), 0) + int(accounts)
    ranked = sorted(((str(code), int(count), int(moved))
                     for code, count, moved in zip(reasons["code"], reasons["accounts"], reasons["exposure_change_fen"])),
                    key=lambda item: (-item[1], item[0]))[:TOP_REASONS]
    return {
        "review_date": run.review_date.isoformat(),
        "run_mode": run.run_mode,
        "policy_version": run.policy_version,
        "accounts_reviewed": _int_sum(groups["accounts"]),
        "actions": actions,
        "exposure_before_fen": _int_sum(groups["exposure_before_fen"]),
        "exposure_after_fen": _int_sum(groups["exposure_after_fen"]),
        "changes": _int_sum(groups["changes"]),
        "top_reasons": [{"code": code, "count": count, "exposure_change_fen": moved} for code, count, moved in ranked],
        "guardrails": dict(sorted(guardrails.items(), key=lambda item: (-item[1], item[0]))),
        "rows_quarantined": int(quarantined["rows_quarantined"].iloc[0]) if len(quarantined) else 0,
        "quality": {"expectations": len(quality), "failed": int((~quality["success"].astype(bool)).sum())},
        "previous_snapshot_date": previous_date.isoformat() if previous_date else None,
        "score_psi": psi,
        "score_psi_band": psi_band(psi),
    }


# --- charts (geometry in report_charts, drawing in the template) -------------------------------

def _score_chart(current: np.ndarray, previous: np.ndarray | None, review_date: date,
                 previous_date: date | None) -> dict[str, Any]:
    """Side-by-side bars per score bin: the share of in-range accounts on each date."""
    bins = len(SCORE_BIN_EDGES) - 1
    ranges = [(int(SCORE_BIN_EDGES[b]), int(SCORE_BIN_EDGES[b + 1]) - (0 if b == bins - 1 else 1)) for b in range(bins)]
    series = []
    for counts, day, colour in ([(previous, previous_date, "#b7c0cc")] if previous is not None else []) + \
            [(current, review_date, "#2d6cdf")]:
        share = counts / counts.sum() * 100 if counts.sum() else counts * 0.0
        series.append({"name": f"{day} ({int(counts.sum()):,} scores)", "colour": colour, "values": share,
                       "titles": [f"{low}–{high} on {day}: {int(counts[b]):,} accounts ({share[b]:.1f} %)"
                                  for b, (low, high) in enumerate(ranges)]})
    return grouped_bar_chart([f"{low}–{high}" for low, high in ranges], series,
                             axis_title="credit score (share of accounts scored 350–950 on each date)")


def _reason_rows(summary: Mapping[str, Any], policy: Policy | None) -> list[dict[str, Any]]:
    reviewed = summary["accounts_reviewed"] or 1
    top = max((reason["count"] for reason in summary["top_reasons"]), default=0) or 1
    rows = []
    for rank, reason in enumerate(summary["top_reasons"], start=1):
        texts, action = {"zh-CN": "", "en": "(not a rule of this policy)"}, None
        try:
            if policy is not None:
                rule = policy.rule(reason["code"])
                texts, action = rule.reason, rule.action
        except KeyError:
            pass
        rows.append({"rank": rank, "code": reason["code"], "zh": texts["zh-CN"], "en": texts["en"],
                     "count": reason["count"], "share": reason["count"] * 100 / reviewed,
                     "exposure_change": reason["exposure_change_fen"],
                     "bar": round(200 * reason["count"] / top, 1),
                     "colour": ACTION_COLOURS["RESTORE"] if action == "RESTORE" else ACTION_COLOURS["DECREASE"]})
    return rows


def _guardrail_rows(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The guardrail events (``report_sections.guardrail_events``) with their words and bar widths."""
    top = max((event["total"] for event in events), default=0) or 1
    return [{**event, "note": GUARDRAILS.get(event["name"], ""), "note_zh": GUARDRAILS_ZH.get(event["name"], ""),
             "bar": round(200 * event["total"] / top, 1)} for event in events]


def _exposure_by_action(groups: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for action in list(ACTIONS) + sorted(set(map(str, groups["action"])) - set(ACTIONS)):
        part = groups[groups["action"].astype(str) == action]
        before, after = _int_sum(part["exposure_before_fen"]), _int_sum(part["exposure_after_fen"])
        rows.append({"action": action, "label": ACTION_LABELS.get(action, action),
                     "accounts": _int_sum(part["accounts"]), "before": before, "after": after,
                     "change": after - before})
    return rows


def _examples(frame: pd.DataFrame, policy: Policy | None) -> list[dict[str, Any]]:
    rows = []
    for record in frame.to_dict("records"):  # ten rows at most
        code = record.get("reason_1")
        code = None if code is None or pd.isna(code) else str(code)
        words = {"zh-CN": "", "en": ""}
        if code and policy is not None:
            with contextlib.suppress(KeyError):
                words = policy.rule(code).reason
        guardrail = record.get("guardrail")
        rows.append({"account": mask_account_id(record["account_id"]), "action": record["action"],
                     "old_limit": int(record["old_limit_fen"]), "new_limit": int(record["new_limit_fen"]),
                     "old_status": record["old_status"], "new_status": record["new_status"],
                     "reason": code or "", "reason_zh": words["zh-CN"], "reason_en": words["en"],
                     "guardrail": "" if guardrail is None or pd.isna(guardrail) else str(guardrail)})
    return rows


def _arm_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Champion / challenger: one row per arm, policy, action and whether the arm applied."""
    if frame["arm"].nunique() < 2:
        return []
    return [{"arm": row["arm"], "policy": row["policy_version"], "action": row["action"],
             "applies": bool(row["applies"]), "accounts": int(row["accounts"]), "changes": int(row["changes"]),
             "limit_change": int(row["limit_change_fen"])} for row in frame.to_dict("records")]


def _quality_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for record in frame.to_dict("records"):
        details, column = record.get("details"), record.get("column_name")
        rows.append({"table": record["table_name"], "expectation": record["expectation"],
                     "column": "" if column is None or pd.isna(column) else column,
                     "severity": record["severity"], "success": bool(record["success"]),
                     "unexpected": int(record["unexpected_count"]), "elements": int(record["element_count"]),
                     "found": not bool(record["success"]) or int(record["unexpected_count"]) > 0,
                     "details": "" if details is None or pd.isna(details) else _mask_ids_in_text(details)})
    return rows


# --- writing ---------------------------------------------------------------------------------

@functools.cache
def templates():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    environment = Environment(loader=FileSystemLoader(TEMPLATE_DIR), autoescape=True,
                              undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.filters["yuan"] = format_yuan
    environment.filters["num"] = lambda value: f"{int(value):,}"
    environment.filters["pct"] = format_pct
    environment.filters["signed_pct"] = lambda value: format_pct(value, signed=True)
    return environment


def write_atomic(path: Path, write: Callable[[IO[str]], Any]) -> None:
    """Write ``path`` through a temporary file in the same folder, then move it into place."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temporary, "x", encoding="utf-8", newline="") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _write_decisions_csv(conn: Connection, params: Mapping[str, Any], handle: IO[str]) -> int:
    """Stream every decision of the run into ``handle`` as CSV, in batches; the rows written.
    (Streamed rather than read into one frame: millions of rows would not fit a worker's memory.)
    PostgreSQL writes the CSV itself through COPY; both databases give the same text."""
    if db.is_postgres(conn):
        return _copy_decisions_csv(conn, params, handle)
    # yield_per streams from a server-side cursor on PostgreSQL; the batch size is given again to
    # partitions() because SQLite's buffered cursor would otherwise hand out single rows
    result = conn.execute(db.statement("report/decisions", params), params,
                          execution_options={"yield_per": CSV_BATCH_ROWS})
    writer = csv.writer(handle, lineterminator="\n")
    names = list(result.keys())
    writer.writerow(names)
    float_columns = [names.index(name) for name in DECISION_FLOAT_COLUMNS]
    written = 0
    for batch in result.partitions(CSV_BATCH_ROWS):
        columns = list(zip(*batch))  # column-wise, so floats are formatted a column at a time
        for index in float_columns:
            columns[index] = _csv_floats(columns[index])
        writer.writerows(zip(*columns))
        written += len(batch)
    return written


def _csv_floats(column: Iterable[float | None]) -> list[str]:
    """Floats as PostgreSQL's COPY writes them, so the file is the same on both databases: the
    shortest text that reads back the same, without Python's trailing '.0' on whole numbers, and
    NULL as an empty field. (SQLite stores no NaN: a NaN here was a NULL.)"""
    values = pd.Series(list(column), dtype="float64")
    text = pd.Series(values.to_numpy().astype(str), dtype=object).str.removesuffix(".0")
    text = text.replace({"inf": "Infinity", "-inf": "-Infinity"})
    return text.mask(values.isna(), "").tolist()


def _copy_decisions_csv(conn: Connection, params: Mapping[str, Any], handle: IO[str]) -> int:
    """The decisions CSV on PostgreSQL: COPY's own CSV (header, NULL as an empty field, the query
    turns ``applies`` into 1/0) decoded into ``handle`` chunk by chunk; the rows written."""
    decoder = codecs.getincrementaldecoder("utf-8")()  # a chunk may end inside a character
    written = db.copy_out(conn, "report/decisions", params, lambda chunk: handle.write(decoder.decode(chunk)))
    handle.write(decoder.decode(b"", final=True))
    return written


def _load_policy(version: str) -> Policy | None:
    """The run's policy for the reasons' plain words; a report still renders without it."""
    try:
        return load_policy(version)
    except PolicyError:
        return None


TREND_REVIEWS = 30


def _quality_status(quality: pd.DataFrame) -> str:
    """'failed' when a critical rule failed, 'warnings' when only row rules did, else 'passed'."""
    failed = quality.loc[~quality["success"].astype(bool), "severity"].astype(str)
    return "failed" if (failed == "critical").any() else ("warnings" if len(failed) else "passed")


def _floor_callout(groups: pd.DataFrame) -> dict[str, int]:
    part = groups[groups["action"].astype(str) == "DECREASE_TO_FLOOR"]
    return {"accounts": _int_sum(part["accounts"]), "exposure_before_fen": _int_sum(part["exposure_before_fen"]),
            "exposure_after_fen": _int_sum(part["exposure_after_fen"])}


def _record_history(conn: Connection, run: ReviewRun, summary: Mapping[str, Any], applied: bool) -> None:
    """This run's headline figures in review_history (replacing a re-run's), for the trend."""
    params = {"review_date": run.review_date, "run_mode": run.run_mode}
    conn.execute(db.statement("report/clear_review_history", params), params)
    actions = summary["actions"]
    db.bulk_insert(conn, "review_history", pd.DataFrame([{
        "review_date": pd.Timestamp(run.review_date), "run_mode": run.run_mode,
        "policy_version": run.policy_version, "accounts_reviewed": summary["accounts_reviewed"],
        "changes": summary["changes"], "lowered": sum(actions.get(a, 0) for a in LOWERING_ACTIONS),
        "restored": actions.get("RESTORE", 0), "exposure_before_fen": summary["exposure_before_fen"],
        "exposure_after_fen": summary["exposure_after_fen"], "score_psi": summary["score_psi"],
        "quality_failed": summary["quality"]["failed"], "breaker_tripped": summary["breaker"]["tripped"],
        "applied": applied}]))


def _repayment_summary(sections: list[dict[str, Any]]) -> dict[str, Any]:
    return {section["key"]: {row["bucket"]: {"accounts": row["accounts"], "previous_accounts": row["previous_accounts"]}
                             for row in section["rows"]} for section in sections}


def _fairness_summary(fairness: Mapping[str, Any]) -> dict[str, Any]:
    return {"book_cut_rate_pct": fairness["book_cut_rate"], "groups_flagged": fairness["flagged"],
            "groups": [{"attribute": attribute["key"], "group": group["group"], "accounts": group["accounts"],
                        "decrease_rate_pct": group["decrease_rate"], "freeze_rate_pct": group["freeze_rate"],
                        "flagged": group["flagged"]}
                       for attribute in fairness["attributes"] for group in attribute["groups"]]}


def build_report(conn: Connection, run: ReviewRun, report_dir: Path, not_applied: str | None = None,
                 shard_count: int = 1) -> dict[str, Any]:
    """Write the run's report.html, decisions.csv and summary.json under
    ``report_dir/<review date>/<run mode>/``, and its line of ``review_history``; the summary
    with the three files' paths. The decisions' totals are those the ``shard_count`` reassessment
    shards of the run counted (``shard_counts``)."""
    params = {"review_date": run.review_date, "run_mode": run.run_mode}
    folder = Path(report_dir) / run.review_date.isoformat() / run.run_mode
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"report_path": folder / REPORT_FILE, "decisions_path": folder / DECISIONS_FILE,
             "summary_path": folder / SUMMARY_FILE}
    # decisions.csv streams on a connection of its own while this one aggregates and renders: both
    # databases work outside the GIL, so at 1M accounts on SQLite the two overlap (the committed
    # decisions are all it reads)
    with ThreadPoolExecutor(max_workers=1) as pool:
        decisions = pool.submit(_write_decisions_file, conn.engine, params, paths["decisions_path"])
        summary, html = _render(conn, run, params, not_applied, shard_count)
        decisions.result()
    write_atomic(paths["report_path"], lambda handle: handle.write(html))
    write_atomic(paths["summary_path"],
                  lambda handle: handle.write(json.dumps(summary, ensure_ascii=False, indent=2) + "\n"))
    return {**summary, **{key: str(path) for key, path in paths.items()}}


def _write_decisions_file(engine: Engine, params: Mapping[str, Any], path: Path) -> None:
    with engine.connect() as conn:
        write_atomic(path, lambda handle: _write_decisions_csv(conn, params, handle))


def _render(conn: Connection, run: ReviewRun, params: Mapping[str, Any],
            not_applied: str | None, shard_count: int) -> tuple[dict[str, Any], str]:
    """The run's summary and its HTML page, from the aggregates of ``sql/report``; records the
    run's line of review_history on the way (the trend includes it)."""
    counted = {**params, "shard_count": shard_count}  # the shards' counts of the decisions
    groups = db.read_frame(conn, "report/decision_counts", counted)
    reasons = db.read_frame(conn, "report/reason_counts", counted)
    quality = db.read_frame(conn, "report/quality_results", params)
    quarantined = db.read_frame(conn, "report/quarantined_count", params)
    by_rule = db.read_frame(conn, "report/quarantined_by_rule", params)
    examples = db.read_frame(conn, "report/largest_changes", counted)
    open_appeals = int(db.read_frame(conn, "report/open_appeals", params)["open_appeals"].iloc[0])
    fairness = report_sections.fairness_slice(
        db.read_frame(conn, "report/fairness_counts", {**params, "review_year": run.review_date.year}))
    previous_date = previous_snapshot_date(conn, run.review_date)
    current_scores = score_counts(conn, run.review_date)
    previous_scores = score_counts(conn, previous_date) if previous_date else None
    psi = psi_from_counts(previous_scores, current_scores) if previous_scores is not None else None
    repayment = report_sections.repayment_indicators(
        db.read_frame(conn, "report/repayment_indicators", {"snapshot_date": run.review_date}),
        db.read_frame(conn, "report/repayment_indicators", {"snapshot_date": previous_date}) if previous_date else None,
        run.review_date.isoformat(), previous_date.isoformat() if previous_date else None)
    policy = _load_policy(run.policy_version)
    breaker = portfolio.breaker_verdict(groups, psi, previous_date, policy) if policy else None
    applied = run.is_live and not not_applied
    guardrail_events = report_sections.guardrail_events(groups)

    summary = _summary(run, groups, reasons, quality, quarantined, previous_date, psi)
    summary.update({
        "quality_status": _quality_status(quality),
        "breaker": {"tripped": bool(breaker and breaker["breached"]), "reasons": breaker["reasons"] if breaker else [],
                    "applied": applied},
        "decreases_to_floor": _floor_callout(groups),
        "guardrail_events": guardrail_events,
        "appeals": {"open": open_appeals,
                    "paused": next((row["total"] for row in guardrail_events if row["name"] == "APPEAL_OPEN"), 0)},
        "quarantined_by_rule": [{"table": r["table_name"], "column": r["column_name"], "rule": r["rule"],
                                 "rows": int(r["rows_quarantined"]), "accounts": int(r["accounts"])}
                                for r in by_rule.to_dict("records")],
        "repayment_indicators": _repayment_summary(repayment),
        "fairness": _fairness_summary(fairness),
    })
    _record_history(conn, run, summary, applied)
    history = db.read_frame(conn, "report/review_history", {**params, "reviews": TREND_REVIEWS})
    summary["trend"] = [{"review_date": str(row["review_date"])[:10], "changes": int(row["changes"]),
                         "exposure_after_fen": int(row["exposure_after_fen"]),
                         "score_psi": None if pd.isna(row["score_psi"]) else float(row["score_psi"])}
                        for row in history.iloc[::-1].to_dict("records")]

    reviewed = summary["accounts_reviewed"]
    before, after = summary["exposure_before_fen"], summary["exposure_after_fen"]
    lowering = sum(summary["actions"].get(action, 0) for action in LOWERING_ACTIONS)
    html = templates().get_template("report.html.j2").render(
        summary=summary,
        is_dry_run=not run.is_live,
        not_applied=not_applied,
        policy_description=policy.description if policy else "",
        change_share=summary["changes"] * 100 / reviewed if reviewed else None,
        exposure_change=after - before,
        exposure_change_pct=change_pct(before, after),
        actions_chart=hbar_chart([
            {"label": ACTION_LABELS.get(action, action), "value": count, "colour": ACTION_COLOURS.get(action, "#888"),
             "text": f"{count:,} · {format_pct(count * 100 / reviewed if reviewed else None)}"}
            for action, count in summary["actions"].items()], row_height=38),
        exposure_chart=hbar_chart([
            {"label": "复核前 before", "value": before, "colour": "#8d99ab", "text": format_yuan(before)},
            {"label": "复核后 after", "value": after, "colour": "#2d6cdf", "text": format_yuan(after)},
        ], label_width=100, value_width=170, row_height=40),
        exposure_by_action=_exposure_by_action(groups),
        lowering=lowering,
        lowering_share=lowering * 100 / reviewed if reviewed else None,
        guardrail_held=_int_sum(groups.loc[(groups["action"].astype(str) == "HOLD") & groups["guardrail"].notna(),
                                           "accounts"]),
        reasons=_reason_rows(summary, policy),
        reason_codes=len(reasons),
        score_chart=_score_chart(current_scores, previous_scores, run.review_date, previous_date),
        score_counts=int(current_scores.sum()),
        psi_thresholds=(PSI_WATCH, PSI_SHIFTED),
        repayment=repayment,
        examples=_examples(examples, policy),
        guardrails=_guardrail_rows(guardrail_events),
        arms=_arm_rows(db.read_frame(conn, "report/arm_counts", counted)),
        quality_rows=_quality_rows(quality),
        accounts_quarantined=int(quarantined["accounts_quarantined"].iloc[0]) if len(quarantined) else 0,
        fairness=fairness,
        fairness_rules={"min_accounts": report_sections.FAIRNESS_MIN_ACCOUNTS, "min_z": report_sections.FAIRNESS_MIN_Z,
                        "band": report_sections.FAIRNESS_RATIO_BAND},
        trend=report_sections.trend(history),
        labels_zh=report_sections.LABELS_ZH,
        masked_example=mask_account_id(100_000_001),
    )

    return summary, html
