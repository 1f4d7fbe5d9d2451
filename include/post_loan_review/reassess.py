"""reassess_accounts: features, policy and guardrails over every staged account at once, into one
decision per account in ``staged_decisions``."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection

from post_loan_review import db
from post_loan_review.features import build_features
from post_loan_review.guardrails import apply_guardrails
from post_loan_review.policy import MAX_REASONS, Policy, evaluate
from post_loan_review.runs import ReviewRun

CHAMPION_ARM = "champion"
# values kept with each decision so it can be explained without recomputing it
EVIDENCE_COLUMNS = [
    "score", "score_drop", "days_past_due", "min_payment_only_months", "spend_ratio",
    "largest_txn_ratio", "days_since_last_txn", "security_events", "inquiries_30d",
    "on_time_full_payment_months", "verified_monthly_income_fen",
]


def decide(inputs: pd.DataFrame, run: ReviewRun, policy: Policy, quarantined_accounts) -> pd.DataFrame:
    """One decision per row of ``inputs`` (pure: no database)."""
    features = build_features(inputs, run.review_date)
    proposal = evaluate(policy, features)
    decisions = apply_guardrails(proposal, features, policy, quarantined_accounts)
    decisions.insert(0, "review_date", pd.Timestamp(run.review_date))
    decisions.insert(1, "run_mode", run.run_mode)
    decisions.insert(3, "policy_version", policy.version)
    decisions.insert(4, "arm", CHAMPION_ARM)
    for k in range(1, MAX_REASONS + 1):
        decisions[f"reason_{k}"] = proposal[f"reason_{k}"].array
    # .array keeps nullable integers integers (to_numpy would turn a column with gaps into floats)
    for column in EVIDENCE_COLUMNS:
        decisions[column] = features[column].array
    decisions["preferred_language"] = features["preferred_language"].array
    return decisions


def reassess_accounts(conn: Connection, run: ReviewRun, policy: Policy) -> dict[str, int]:
    """Decide every staged account of the run and replace the run's staged decisions."""
    params = {"review_date": run.review_date, "run_mode": run.run_mode}
    inputs = db.read_frame(conn, "review/review_inputs", params,
                           date_columns=("last_decrease_date", "last_increase_date"))
    quarantined = db.read_frame(conn, "review/quarantined_accounts", params)["account_id"].to_numpy()
    decisions = decide(inputs, run, policy, quarantined)
    db.execute(conn, "review/clear_staged_decisions", params)
    db.bulk_insert(conn, "staged_decisions", decisions)
    counts = decisions["action"].value_counts()
    return {"accounts_reviewed": len(decisions), **{str(a): int(n) for a, n in counts.items()}}
