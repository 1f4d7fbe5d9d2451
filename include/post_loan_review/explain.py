"""Why an account got its decision: the action, the ranked reasons in plain words, and the values
each reason was read from (PIPL Art. 24: a right to an explanation of automated decisions)."""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
from sqlalchemy import Connection

from post_loan_review import db
from post_loan_review.features import build_features
from post_loan_review.policy import MAX_REASONS, load_policy
from post_loan_review.reports import format_yuan

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEYWORDS = {"and", "or", "not", "True", "False"}


def _value(value) -> str:
    if pd.isna(value):
        return "missing"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def explain(conn: Connection, account_id: int, review_date: date, run_mode: str = "live") -> str:
    """A readable explanation of one decision; raises LookupError when there is none."""
    params = {"account_id": account_id, "review_date": review_date, "run_mode": run_mode}
    decision = db.read_frame(conn, "review/decision_for_account", params)
    if decision.empty:
        raise LookupError(f"no decision for account {account_id} on {review_date} ({run_mode}); "
                          f"was the review for that date run?")
    row = decision.iloc[0]
    policy = load_policy(row["policy_version"])
    lines = [
        f"Account {account_id}, review of {review_date} ({row['run_mode']}), policy {row['policy_version']}",
        f"Action: {row['action']}   limit {format_yuan(row['old_limit_fen'])} -> {format_yuan(row['new_limit_fen'])}"
        f"   status {row['old_status']} -> {row['new_status']}",
    ]
    if row["guardrail"] is not None and not pd.isna(row["guardrail"]):
        lines.append(f"Guardrail: {row['guardrail']} shaped this decision")
    if row.get("is_applied") is False or row.get("is_applied") == 0:
        lines.append("Not applied: a newer review had already set this account's limit")

    inputs = db.read_frame(conn, "review/inputs_for_account", {**params, "run_mode": row["run_mode"]},
                           date_columns=("last_decrease_date", "last_increase_date"))
    features = build_features(inputs, review_date).iloc[0] if not inputs.empty else None
    codes = [row[f"reason_{k}"] for k in range(1, MAX_REASONS + 1)]
    codes = [code for code in codes if code is not None and not pd.isna(code)]
    if not codes:
        lines.append("Reasons: none (no rule fired)")
    for rank, code in enumerate(codes, start=1):
        try:
            rule = policy.rule(code)
        except KeyError:
            lines.append(f"{rank}. {code} (not in policy {policy.version})")
            continue
        lines.append(f"{rank}. {code}: {rule.reason['en']} / {rule.reason['zh-CN']}")
        lines.append(f"   rule: {rule.when}")
        if features is not None:
            names = [n for n in dict.fromkeys(_IDENTIFIER.findall(rule.when))
                     if n not in _KEYWORDS and n in features.index]
            lines.append("   values: " + ", ".join(f"{n} = {_value(features[n])}" for n in names))
    return "\n".join(lines)
