"""Policy simulation: what a candidate policy would have decided on a past review date, next to
what was decided then, without applying anything.

The inputs are staged as of the date exactly as a review stages them (``extract_snapshots`` and
the quality gate, in run mode ``simulation``: those staging rows are the only ones written). The
baseline ("current") is what was recorded live in ``limit_decisions`` for the date, per account
the applied arm, else the champion's; a date never reviewed live is compared with the current
champion policy (``PLR_POLICY``) decided in memory. The candidate is decided in memory too. No
staged decision, recorded decision, ledger row, notice or limit is written.

``<report_dir>/<date>/simulation/<candidate version>/`` receives

- ``simulation.html``: self-contained, account ids masked, with a banner that nothing was applied;
- ``changes.csv``: every account whose action or new limit differs, full ids, money in fen;
- ``summary.json``: the numbers, also returned by :func:`simulate`.
"""

from __future__ import annotations

import contextlib
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from post_loan_review import db, quality, reassess, reports, snapshots
from post_loan_review.config import settings
from post_loan_review.dates import parse_date
from post_loan_review.money import format_yuan
from post_loan_review.policy import ACTIONS, MAX_REASONS, Policy, PolicyError, load_policy
from post_loan_review.runs import ReviewRun
from post_loan_review.shards import WHOLE_BOOK

RUN_MODE = "simulation"
MAX_DATES = 31  # one DAG run simulates a month at most
SAMPLE_SIZE = 20
REPORT_FILE, CHANGES_FILE, SUMMARY_FILE = "simulation.html", "changes.csv", "summary.json"
REASON_COLUMNS = [f"reason_{k}" for k in range(1, MAX_REASONS + 1)]
DECISION_COLUMNS = ["account_id", "action", "old_limit_fen", "new_limit_fen", "old_status", "new_status",
                    *REASON_COLUMNS, "guardrail"]
SIDES = ("current", "candidate")
# what a policy's extract depends on: two policies with the same windows stage the same inputs
_WINDOW_FIELDS = ("score_baseline_days", "security_window_days", "income_window_days")


# --- staging and deciding --------------------------------------------------------------------

def _stage_inputs(conn: Connection, run: ReviewRun, policy: Policy) -> pd.DataFrame:
    """Stage the date's inputs for ``policy`` (review_inputs, run mode simulation) and read them."""
    extracted = snapshots.extract_snapshots(conn, run, policy)
    if extracted["accounts_extracted"] == 0:
        raise ValueError(f"simulate {run.review_date}: no reviewable account in accounts; "
                         "load a portfolio first (plr generate)")
    return db.read_frame(conn, "review/review_inputs", {**_params(run), **WHOLE_BOOK.params()},
                         date_columns=("last_decrease_date", "last_increase_date"))


def _params(run: ReviewRun) -> dict[str, Any]:
    return {"review_date": run.review_date, "run_mode": run.run_mode}


def _applied(decided: reassess.Decided) -> pd.DataFrame:
    """The decision that would apply to each account (one arm per account)."""
    decisions = decided.decisions
    return decisions.loc[decisions["applies"].to_numpy(dtype=bool), DECISION_COLUMNS].reset_index(drop=True)


def _windows(policy: Policy) -> tuple[int, ...]:
    return tuple(getattr(policy, field) for field in _WINDOW_FIELDS)


def _inputs_and_baseline(conn: Connection, run: ReviewRun, candidate: Policy, champion_version: str | None
                         ) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame, dict[str, Any], dict[str, Any]]:
    """Stage and validate the date; the candidate's inputs, the quarantined accounts, the
    baseline decisions, what the baseline is, and the quality gate's counts."""
    recorded = db.read_frame(conn, "simulation/recorded_decisions", {"review_date": run.review_date})
    champion = None if len(recorded) else load_policy(champion_version or settings().policy_version)
    champion_inputs = None
    if champion is not None and _windows(champion) != _windows(candidate):
        # the champion reads other windows than the candidate: stage its inputs first, in memory
        champion_inputs = _stage_inputs(conn, run, champion)
    inputs = _stage_inputs(conn, run, candidate)
    if champion_inputs is None:
        champion_inputs = inputs

    previous = snapshots.previous_snapshot_date(conn, run.review_date)
    checked = quality.validate_snapshots(conn, run, previous)
    if checked["failure"]:
        raise quality.QualityGateError(checked["failure"], retryable=checked["retryable"])
    quarantined = db.read_frame(conn, "review/quarantined_accounts", _params(run))["account_id"].to_numpy()
    gate = {"rows_quarantined": checked["rows_quarantined"], "accounts_quarantined": checked["accounts_quarantined"]}

    if champion is None:
        baseline = recorded[DECISION_COLUMNS].reset_index(drop=True)
        source = {"source": "recorded", "policy_versions": sorted(set(map(str, recorded["policy_version"])))}
    else:
        baseline = _applied(reassess.decide(champion_inputs, run, champion, quarantined))
        source = {"source": "computed", "policy_versions": [champion.version]}
    return inputs, quarantined, baseline, source, gate


# --- comparing -------------------------------------------------------------------------------

def _exposure(frame: pd.DataFrame, limit: str, status: str) -> np.ndarray:
    """Drawable limit per account, integer fen: the limit of an active account, else 0."""
    return np.where(frame[status].astype(str).to_numpy() == "active",
                    frame[limit].to_numpy(dtype="int64"), 0).astype("int64")


def compare(current: pd.DataFrame, candidate: pd.DataFrame) -> pd.DataFrame:
    """One row per account decided on both sides: ``current_*`` and ``candidate_*`` columns, the
    exposures in fen, the limit difference and whether the decision changes."""
    merged = current[DECISION_COLUMNS].add_prefix("current_").merge(
        candidate[DECISION_COLUMNS].add_prefix("candidate_"), left_on="current_account_id",
        right_on="candidate_account_id", how="inner", validate="one_to_one")
    merged = merged.rename(columns={"current_account_id": "account_id"}).drop(columns="candidate_account_id")
    merged = merged.sort_values("account_id", kind="stable").reset_index(drop=True)
    for side in SIDES:
        merged[f"{side}_action"] = merged[f"{side}_action"].astype(str)
        merged[f"{side}_new_limit_fen"] = merged[f"{side}_new_limit_fen"].astype("int64")
        merged[f"{side}_old_limit_fen"] = merged[f"{side}_old_limit_fen"].astype("int64")
        merged[f"{side}_exposure_before_fen"] = _exposure(merged, f"{side}_old_limit_fen", f"{side}_old_status")
        merged[f"{side}_exposure_fen"] = _exposure(merged, f"{side}_new_limit_fen", f"{side}_new_status")
    merged["limit_difference_fen"] = merged["candidate_new_limit_fen"] - merged["current_new_limit_fen"]
    merged["changed"] = ((merged["current_action"] != merged["candidate_action"])
                         | (merged["limit_difference_fen"] != 0))
    return merged


def _action_order(*columns: pd.Series) -> list[str]:
    extra = sorted(set().union(*(set(column) for column in columns)) - set(ACTIONS))
    return list(ACTIONS) + extra


def transition_matrix(merged: pd.DataFrame) -> pd.DataFrame:
    """Accounts by current action (rows) and candidate action (columns), every action shown."""
    order = _action_order(merged["current_action"], merged["candidate_action"])
    matrix = pd.crosstab(pd.Categorical(merged["current_action"], categories=order),
                         pd.Categorical(merged["candidate_action"], categories=order), dropna=False)
    matrix = matrix.reindex(index=order, columns=order, fill_value=0).astype("int64")
    matrix.index.name, matrix.columns.name = "current", "candidate"
    return matrix


def _reason_counts(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """Accounts per reason code over ``columns`` (a code appears once per decision)."""
    stacked = pd.concat([frame[column] for column in columns], ignore_index=True).dropna()
    return stacked.astype(str).value_counts()


def reason_table(merged: pd.DataFrame) -> pd.DataFrame:
    """Per reason code: accounts carrying it (any of reason_1..4) and as main reason (reason_1),
    on each side."""
    columns = {}
    for side in SIDES:
        columns[f"{side}_accounts"] = _reason_counts(merged, [f"{side}_{c}" for c in REASON_COLUMNS])
        columns[f"{side}_main"] = _reason_counts(merged, [f"{side}_reason_1"])
    table = pd.DataFrame(columns).fillna(0).astype("int64")
    table["difference"] = table["candidate_accounts"] - table["current_accounts"]
    table.index.name = "code"
    # most given first (on either side), then by code
    total = table["current_accounts"] + table["candidate_accounts"]
    order = np.lexsort((table.index.to_numpy(dtype=str), -total.to_numpy()))
    return table.iloc[order]


def _summary(run: ReviewRun, candidate: Policy, merged: pd.DataFrame, matrix: pd.DataFrame,
             reasons: pd.DataFrame, baseline: Mapping[str, Any], gate: Mapping[str, Any],
             unmatched: Mapping[str, int], sample: list[dict[str, Any]]) -> dict[str, Any]:
    by_action = {}
    for side in SIDES:
        grouped = merged.groupby(f"{side}_action", sort=False)[f"{side}_exposure_fen"].agg(["size", "sum"])
        by_action[side] = grouped
    exposure_by_action = {
        action: {f"{side}_{what}": int(by_action[side][column].get(action, 0))
                 for side in SIDES for what, column in (("accounts", "size"), ("fen", "sum"))}
        for action in matrix.index}
    exposure = {
        "before_fen": int(merged["current_exposure_before_fen"].sum()),
        "candidate_before_fen": int(merged["candidate_exposure_before_fen"].sum()),
        "current_fen": int(merged["current_exposure_fen"].sum()),
        "candidate_fen": int(merged["candidate_exposure_fen"].sum()),
    }
    exposure["delta_fen"] = exposure["candidate_fen"] - exposure["current_fen"]
    exposure["by_action"] = exposure_by_action
    return {
        "review_date": run.review_date.isoformat(),
        "run_mode": RUN_MODE,
        "candidate_policy": candidate.version,
        "candidate_description": candidate.description,
        "candidate_file": str(candidate.path),
        "baseline": dict(baseline),
        "accounts": len(merged),
        "accounts_only_current": int(unmatched["current"]),
        "accounts_only_candidate": int(unmatched["candidate"]),
        "changed_accounts": int(merged["changed"].sum()),
        "actions": {side: {action: int(count) for action, count in
                           (matrix.sum(axis=1) if side == "current" else matrix.sum(axis=0)).items()}
                    for side in SIDES},
        "transitions": {current: {cand: int(n) for cand, n in row.items()} for current, row in matrix.iterrows()},
        "exposure": exposure,
        "reasons": {code: {column: int(value) for column, value in row.items()}
                    for code, row in reasons.iterrows()},
        **{key: int(value) for key, value in gate.items()},
        "sample": sample,
    }


def _reason_words(candidate: Policy) -> dict[str, dict[str, str]]:
    """Reason code -> its customer texts, for the candidate's rules and its challenger's."""
    policies = [candidate]
    if candidate.challenger is not None:
        with contextlib.suppress(PolicyError):
            policies.append(load_policy(candidate.challenger.policy))
    return {rule.code: rule.reason for policy in reversed(policies) for rule in policy.rules}


def _sample(merged: pd.DataFrame, candidate: Policy) -> list[dict[str, Any]]:
    """The changed accounts with the largest absolute limit difference (ids masked), at most 20."""
    changed = merged[merged["changed"].to_numpy(dtype=bool)]
    order = np.lexsort((changed["account_id"].to_numpy(dtype="int64"),
                        -np.abs(changed["limit_difference_fen"].to_numpy(dtype="int64"))))[:SAMPLE_SIZE]
    words = _reason_words(candidate)
    rows = []
    for record in changed.iloc[order].to_dict("records"):  # twenty rows at most
        codes = [str(record[f"candidate_{c}"]) for c in REASON_COLUMNS if not pd.isna(record[f"candidate_{c}"])]
        rows.append({
            "account": reports.mask_account_id(record["account_id"]),
            "old_limit_fen": int(record["candidate_old_limit_fen"]),
            "current_action": record["current_action"],
            "current_new_limit_fen": int(record["current_new_limit_fen"]),
            "candidate_action": record["candidate_action"],
            "candidate_new_limit_fen": int(record["candidate_new_limit_fen"]),
            "limit_difference_fen": int(record["limit_difference_fen"]),
            "candidate_reasons": [{"code": code, "en": words.get(code, {}).get("en", "(not a rule of this policy)"),
                                   "zh": words.get(code, {}).get("zh-CN", "")} for code in codes],
        })
    return rows


CHANGES_COLUMNS = {
    "account_id": "account_id",
    "candidate_old_limit_fen": "old_limit_fen",
    "current_action": "current_action",
    "current_new_limit_fen": "current_new_limit_fen",
    "current_new_status": "current_new_status",
    "current_reason_1": "current_reason_1",
    "candidate_action": "candidate_action",
    "candidate_new_limit_fen": "candidate_new_limit_fen",
    "candidate_new_status": "candidate_new_status",
    "candidate_reason_1": "candidate_reason_1",
    "limit_difference_fen": "limit_difference_fen",
}


def _changes(merged: pd.DataFrame) -> pd.DataFrame:
    changed = merged.loc[merged["changed"].to_numpy(dtype=bool), list(CHANGES_COLUMNS)]
    return changed.rename(columns=CHANGES_COLUMNS)


# --- the report ------------------------------------------------------------------------------

def _render(summary: Mapping[str, Any], matrix: pd.DataFrame, reasons: pd.DataFrame, candidate: Policy) -> str:
    words = _reason_words(candidate)
    diagonal = int(np.trace(matrix.to_numpy()))
    matrix_rows = [{"action": action, "label": reports.ACTION_LABELS.get(action, action),
                    "cells": [{"count": int(n), "diagonal": action == other} for other, n in row.items()],
                    "total": int(row.sum())} for action, row in matrix.iterrows()]
    exposure = summary["exposure"]
    action_rows = []
    for action, values in exposure["by_action"].items():
        action_rows.append({"label": reports.ACTION_LABELS.get(action, action), **values,
                            "difference": values["candidate_fen"] - values["current_fen"]})
    reason_rows = [{"code": code, "en": words.get(code, {}).get("en", "(not a rule of the candidate)"),
                    "zh": words.get(code, {}).get("zh-CN", ""), **{k: int(v) for k, v in row.items()}}
                   for code, row in reasons.iterrows()]
    accounts = summary["accounts"]
    return reports.templates().get_template("simulation.html.j2").render(
        summary=summary,
        change_share=summary["changed_accounts"] * 100 / accounts if accounts else None,
        exposure_change_pct=reports.change_pct(exposure["current_fen"], exposure["candidate_fen"]),
        actions=list(matrix.columns),
        action_labels=reports.ACTION_LABELS,
        matrix_rows=matrix_rows,
        column_totals=[int(n) for n in matrix.sum(axis=0)],
        unchanged_actions=diagonal,
        exposure_rows=action_rows,
        reason_rows=reason_rows,
        masked_example=reports.mask_account_id(100_000_001),
    )


def _write(folder: Path, summary: Mapping[str, Any], html: str, changes: pd.DataFrame) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"report_path": folder / REPORT_FILE, "changes_path": folder / CHANGES_FILE,
             "summary_path": folder / SUMMARY_FILE}
    reports.write_atomic(paths["changes_path"], lambda handle: changes.to_csv(handle, index=False, lineterminator="\n"))
    reports.write_atomic(paths["report_path"], lambda handle: handle.write(html))
    reports.write_atomic(paths["summary_path"],
                          lambda handle: handle.write(json.dumps(summary, ensure_ascii=False, indent=2) + "\n"))
    return {key: str(path) for key, path in paths.items()}


# --- entry points ----------------------------------------------------------------------------

def simulate(conn: Connection, candidate: Policy, review_date: date, report_dir: Path,
             champion_version: str | None = None) -> dict[str, Any]:
    """Decide ``review_date`` with ``candidate`` and compare with the date's recorded live
    decisions (else the champion, ``champion_version`` or ``PLR_POLICY``, decided in memory).
    Writes only the simulation's staging rows and the three files; the summary with their paths.
    A failed quality gate raises :class:`quality.QualityGateError` (the caller's transaction then
    rolls back its staging rows)."""
    run = ReviewRun(parse_date(review_date), RUN_MODE, candidate.version)
    inputs, quarantined, current, baseline, gate = _inputs_and_baseline(conn, run, candidate, champion_version)
    proposed = _applied(reassess.decide(inputs, run, candidate, quarantined))
    merged = compare(current, proposed)
    unmatched = {"current": len(current) - len(merged), "candidate": len(proposed) - len(merged)}
    matrix = transition_matrix(merged)
    reasons = reason_table(merged)
    summary = _summary(run, candidate, merged, matrix, reasons, baseline, gate, unmatched, _sample(merged, candidate))
    html = _render(summary, matrix, reasons, candidate)
    folder = Path(report_dir) / run.review_date.isoformat() / RUN_MODE / candidate.version
    return {**summary, **_write(folder, summary, html, _changes(merged))}


def run_simulation(candidate: Policy, review_date: str | date) -> dict[str, Any]:
    """:func:`simulate` in its own transaction on the warehouse (``PLR_DATABASE_URL``), reports
    under ``PLR_REPORT_DIR``."""
    with db.engine().begin() as conn:
        db.init_db(conn)
        return simulate(conn, candidate, parse_date(review_date), settings().report_dir)


COMPACT_KEYS = ("review_date", "candidate_policy", "accounts", "changed_accounts", "report_path")


def compact(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The few numbers of a simulation fit for XCom."""
    exposure = summary["exposure"]
    return {**{key: summary[key] for key in COMPACT_KEYS},
            "baseline": summary["baseline"]["source"],
            "exposure_current_fen": exposure["current_fen"],
            "exposure_candidate_fen": exposure["candidate_fen"],
            "exposure_delta_fen": exposure["delta_fen"]}


def simulate_date(review_date_iso: str, candidate_version: str) -> dict[str, Any]:
    """One date of the ``policy_simulation`` DAG: the candidate policy of ``include/policies``
    on that date; a small dict for XCom."""
    return compact(run_simulation(load_policy(candidate_version), review_date_iso))


def resolve_dates(from_date: str | date, to_date: str | date | None = None) -> list[str]:
    """The ISO dates from ``from_date`` to ``to_date`` (default: ``from_date``), both included,
    at most :data:`MAX_DATES`."""
    first = parse_date(from_date, "from_date")
    last = first if to_date in (None, "") else parse_date(to_date, "to_date")
    if last < first:
        raise ValueError(f"to_date {last} is before from_date {first}")
    days = (last - first).days + 1
    if days > MAX_DATES:
        raise ValueError(f"{first}..{last} is {days} dates; simulate at most {MAX_DATES} at a time")
    return [(first + timedelta(days=offset)).isoformat() for offset in range(days)]


def summarise(results: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The per-date results of a simulation run, side by side (small: for XCom and the log)."""
    ordered = sorted(results, key=lambda result: result["review_date"])
    return {
        "candidate_policy": sorted({result["candidate_policy"] for result in ordered}),
        "dates": [result["review_date"] for result in ordered],
        "changed_accounts": {result["review_date"]: int(result["changed_accounts"]) for result in ordered},
        "exposure_delta_fen": {result["review_date"]: int(result["exposure_delta_fen"]) for result in ordered},
        "total_changed_accounts": sum(int(result["changed_accounts"]) for result in ordered),
        "reports": {result["review_date"]: result["report_path"] for result in ordered},
    }


def format_summary(summary: Mapping[str, Any]) -> str:
    """A short text of a simulation for the command line (without the report path)."""
    exposure = summary["exposure"]
    baseline = summary["baseline"]
    versions = ", ".join(baseline["policy_versions"]) or "none"
    against = (f"the decisions recorded on that date (policy {versions})" if baseline["source"] == "recorded"
               else f"the champion policy {versions} decided on the same inputs")
    accounts = summary["accounts"]
    share = summary["changed_accounts"] * 100 / accounts if accounts else None
    lines = [
        f"Simulation of policy {summary['candidate_policy']} on {summary['review_date']} against {against}: "
        "SIMULATION, nothing was applied",
        f"Accounts: {accounts:,} ({summary['changed_accounts']:,} decisions change, "
        f"{reports.format_pct(share)})",
        f"Exposure current:   {format_yuan(exposure['current_fen'])}",
        f"Exposure candidate: {format_yuan(exposure['candidate_fen'])} "
        f"({format_yuan(exposure['delta_fen'])}, "
        f"{reports.format_pct(reports.change_pct(exposure['current_fen'], exposure['candidate_fen']), signed=True)})",
        "Transitions (current -> candidate):",
    ]
    pairs = [(current, cand, n) for current, row in summary["transitions"].items() for cand, n in row.items() if n]
    width = max((len(f"{current} -> {cand}") for current, cand, _ in pairs), default=0)
    lines += [f"  {f'{current} -> {cand}':<{width}}  {n:>10,}{'' if current != cand else '  (same)'}"
              for current, cand, n in pairs]
    return "\n".join(lines)
