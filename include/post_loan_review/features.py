"""Per-account signals for the policy, vectorised over the staged ``review_inputs``."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

# Features a policy condition may name, beyond the columns of review_inputs.
DERIVED_FEATURES = (
    "score_drop", "txn_count_ratio", "spend_ratio", "largest_txn_ratio", "debt_reduction_share",
    "security_events", "ceiling_fen", "days_since_last_decrease", "days_since_last_increase",
    "has_missing_snapshot",
)


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator as float, missing where the denominator is missing or zero."""
    denominator = denominator.astype("Float64").where(denominator > 0)
    return (numerator.astype("Float64") / denominator).astype("float64")


def build_features(inputs: pd.DataFrame, review_date: date) -> pd.DataFrame:
    """The inputs plus the derived features the policy reads. Missing inputs stay missing,
    so a condition on them is false rather than guessed."""
    f = inputs.copy()
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
