"""Why an account got its decision, in words a customer-service agent can read aloud: the action,
the ranked reasons, the values each rule compared against its threshold, and every guardrail that
changed or blocked the decision (PIPL Art. 24: a right to an explanation of automated decisions)."""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Connection

from post_loan_review import db
from post_loan_review.guardrails import GUARDRAILS
from post_loan_review.policy import MAX_REASONS, PolicyError, load_policy
from post_loan_review.money import format_yuan

ACTION_WORDS = {
    "DECREASE": "the limit was lowered", "DECREASE_TO_FLOOR": "the limit was lowered to the floor",
    "FREEZE": "the account was frozen to protect the customer", "RESTORE": "the limit was raised back",
    "MANUAL_REVIEW": "the case went to a person for review", "HOLD": "nothing changed",
}


def _present(value) -> bool:
    return value is not None and not pd.isna(value)


def _describe_arm(decision: pd.Series, traces: pd.DataFrame) -> list[str]:
    try:
        policy = load_policy(decision["policy_version"])
    except PolicyError:
        policy = None
    lines = [
        f"Action: {decision['action']} ({ACTION_WORDS.get(decision['action'], '')}); limit "
        f"{format_yuan(decision['old_limit_fen'])} -> {format_yuan(decision['new_limit_fen'])}; "
        f"status {decision['old_status']} -> {decision['new_status']}",
    ]
    codes = [decision[f"reason_{k}"] for k in range(1, MAX_REASONS + 1) if _present(decision[f"reason_{k}"])]
    if not codes:
        lines.append("Reasons: none (no rule fired)")
    for rank, code in enumerate(codes, start=1):
        rule = None
        if policy is not None:
            try:
                rule = policy.rule(code)
            except KeyError:
                pass
        words = f"{rule.reason['en']} / {rule.reason['zh-CN']}" if rule else f"(not in policy {decision['policy_version']})"
        lines.append(f"{rank}. {code}: {words}")
        checks = traces[(traces["kind"] == "rule") & (traces["code"] == code)]
        if len(checks):
            lines.append("   seen: " + "; ".join(
                f"{row.detail} ({'yes' if row.held else 'no'})" for row in checks.itertuples()))
    guardrails = traces[traces["kind"] == "guardrail"]
    for row in guardrails.itertuples():
        lines.append(f"Guardrail {row.code}: {GUARDRAILS.get(row.code, '')} ({row.detail})")
    return lines


def explain(conn: Connection, account_id: int, review_date: date, run_mode: str = "live") -> str:
    """A readable explanation of one account's decision(s); LookupError when there is none."""
    params = {"account_id": account_id, "review_date": review_date, "run_mode": run_mode}
    decisions = db.read_frame(conn, "review/decision_for_account", params)
    if decisions.empty:
        kept = "" if run_mode == "live" else (
            "; a run that is not live records nothing, and its staged decisions are deleted once it has "
            "reported and the review of a later date starts")
        raise LookupError(f"no decision for account {account_id} on {review_date} ({run_mode}); "
                          f"was the review for that date run?{kept}")
    traces = db.read_frame(conn, "review/traces_for_account", params)
    first = decisions.iloc[0]
    lines = [f"Account {account_id}, review of {review_date} ({first['run_mode']})"]
    for _, decision in decisions.iterrows():  # one row per policy arm, two at most
        applied = "applied" if decision["is_applied"] else "not applied"
        lines.append(f"[{decision['arm']} arm, policy {decision['policy_version']}, {applied}]")
        if decision["arm"] == "champion" and not decision["is_applied"] and len(decisions) == 1:
            lines.append("Not applied: a newer review had already set this account's limit")
        lines += _describe_arm(decision, traces[traces["arm"] == decision["arm"]])
    return "\n".join(lines)
