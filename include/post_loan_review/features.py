"""Per-account signals for the policy, vectorised over the staged ``review_inputs``."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

INF = float("inf")
# Every feature a policy condition may name, with the range its values can take: a threshold
# outside it is refused when the policy is loaded. Money in fen, ratios as plain numbers.
FEATURE_RANGES: dict[str, tuple[float, float]] = {
    # credit score
    "score": (350, 950), "previous_score": (350, 950), "baseline_score_90d": (350, 950),
    "score_drop": (-600, 600),
    # repayment
    "days_past_due": (0, 3650), "overdue_count_3m": (0, 3), "overdue_count_6m": (0, 6),
    "overdue_count_12m": (0, 12), "min_payment_only_months": (0, 600),
    "on_time_full_payment_months": (0, 600), "utilisation_ratio": (0, 5),
    "statement_balance_fen": (0, INF), "minimum_due_fen": (0, INF), "amount_paid_fen": (0, INF),
    # spending
    "txn_count_30d": (0, INF), "txn_amount_30d_fen": (0, INF), "baseline_txn_count_30d": (0, INF),
    "baseline_txn_amount_30d_fen": (0, INF), "largest_txn_30d_fen": (0, INF),
    "days_since_last_txn": (0, 36500), "txn_count_ratio": (0, INF), "spend_ratio": (0, INF),
    "largest_txn_ratio": (0, INF),
    # security
    "takeover_suspected_events": (0, INF), "device_change_events": (0, INF),
    "sim_change_events": (0, INF), "password_reset_events": (0, INF), "security_events": (0, INF),
    # borrowing elsewhere
    "inquiries_30d": (0, INF), "inquiries_90d": (0, INF), "external_debt_fen": (0, INF),
    "external_debt_90d_ago_fen": (0, INF), "debt_reduction_share": (-INF, 1),
    # restoration evidence and the account
    "verified_monthly_income_fen": (0, INF), "approved_limit_fen": (0, INF), "old_limit_fen": (0, INF),
    "outstanding_balance_fen": (0, INF), "days_since_last_decrease": (0, INF),
    "days_since_last_increase": (0, INF),
}
# never an input to a decision (fairness checks only); naming one in a rule is refused
PROTECTED_ATTRIBUTES = frozenset({"age", "sex", "gender", "marital_status", "marriage", "education",
                                  "ethnicity", "religion", "nationality", "birth_date"})


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator as float, missing where the denominator is missing or zero."""
    denominator = denominator.astype("Float64").where(denominator > 0)
    return (numerator.astype("Float64") / denominator).astype("float64")


def build_features(inputs: pd.DataFrame, review_date: date) -> pd.DataFrame:
    """The inputs plus the derived features the policy reads. Missing inputs stay missing,
    so a condition on them is false rather than guessed."""
    f = inputs.copy()
    # text in a numeric input (an account the quality gate quarantined) must not crash the night:
    # it becomes missing here, and the account is held anyway
    for column in f.columns.intersection(list(FEATURE_RANGES)):
        if not pd.api.types.is_numeric_dtype(f[column]):
            number = pd.to_numeric(f[column], errors="coerce")
            whole = number.dropna()
            f[column] = number.astype("Int64") if (whole == whole.round()).all() else number
    score = f["score"].astype("Float64")
    drop_vs_previous = f["previous_score"].astype("Float64") - score
    drop_vs_baseline = f["baseline_score_90d"].astype("Float64") - score
    f["score_drop"] = pd.concat([drop_vs_previous, drop_vs_baseline], axis=1).max(axis=1).round().astype("Int64")
    f["txn_count_ratio"] = _ratio(f["txn_count_30d"], f["baseline_txn_count_30d"])
    f["spend_ratio"] = _ratio(f["txn_amount_30d_fen"], f["baseline_txn_amount_30d_fen"])
    f["largest_txn_ratio"] = _ratio(f["largest_txn_30d_fen"], f["old_limit_fen"])
    f["debt_reduction_share"] = 1 - _ratio(f["external_debt_fen"], f["external_debt_90d_ago_fen"])
    f["security_events"] = (f["takeover_suspected_events"] + f["sim_change_events"]
                            + f["password_reset_events"]).astype("int64")
    approved = f["approved_limit_fen"].astype("int64")
    cap = f["customer_cap_fen"].astype("Int64").fillna(approved).astype("int64")
    f["ceiling_fen"] = np.minimum(approved, cap)
    today = pd.Timestamp(review_date)
    f["days_since_last_decrease"] = (today - pd.to_datetime(f["last_decrease_date"])).dt.days.astype("Float64")
    f["days_since_last_increase"] = (today - pd.to_datetime(f["last_increase_date"])).dt.days.astype("Float64")
    f["has_missing_snapshot"] = f["score"].isna() | f["days_past_due"].isna()
    return f
