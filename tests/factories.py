"""Hand-made review inputs: a healthy account by default, with only the fields a test cares about
changed, so each test says exactly which signal it is about."""

from __future__ import annotations

import pandas as pd

HEALTHY = {
    "account_id": 1, "segment": "mass_market", "preferred_language": "zh-CN", "status": "active",
    "has_open_appeal": False, "refused_automated_decisions": False,
    "approved_limit_fen": 1_000_000, "old_limit_fen": 1_000_000, "customer_cap_fen": pd.NA,
    "outstanding_balance_fen": 100_000,
    "last_decrease_date": pd.NaT, "last_increase_date": pd.NaT,
    "score": 700, "previous_score": 702, "baseline_score_90d": 701.0,
    "statement_balance_fen": 100_000, "minimum_due_fen": 10_000, "amount_paid_fen": 100_000,
    "days_past_due": 0, "overdue_count_3m": 0, "overdue_count_6m": 0, "overdue_count_12m": 0,
    "min_payment_only_months": 0, "on_time_full_payment_months": 2, "utilisation_ratio": 0.1,
    "txn_count_30d": 20, "txn_amount_30d_fen": 200_000, "baseline_txn_count_30d": 20,
    "baseline_txn_amount_30d_fen": 200_000, "largest_txn_30d_fen": 30_000, "days_since_last_txn": 1,
    "takeover_suspected_events": 0, "device_change_events": 0, "sim_change_events": 0,
    "password_reset_events": 0,
    "inquiries_30d": 0, "inquiries_90d": 1, "external_debt_fen": 500_000, "external_debt_90d_ago_fen": 500_000,
    "verified_monthly_income_fen": pd.NA,
}


def inputs(*rows: dict) -> pd.DataFrame:
    """A review_inputs-shaped frame: one healthy row per dict, updated by the dict."""
    records = [{**HEALTHY, "account_id": index + 1, **row} for index, row in enumerate(rows or [{}])]
    frame = pd.DataFrame.from_records(records)
    for column in ("last_decrease_date", "last_increase_date"):
        frame[column] = pd.to_datetime(frame[column])
    for column in ("customer_cap_fen", "verified_monthly_income_fen", "score", "previous_score", "days_past_due"):
        frame[column] = frame[column].astype("Int64")
    return frame
