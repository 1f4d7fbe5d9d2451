"""Backtest scoring against hand computation on tiny frames."""

from __future__ import annotations

import pandas as pd
import pytest

from post_loan_review import backtest


def test_auc_matches_hand_computation():
    # bad at risk 0.35 beats one of two goods, bad at 0.8 beats both: 3 of 4 pairs
    assert backtest.auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(0.75)
    assert backtest.auc([1, 1], [1, 0]) == pytest.approx(0.5)  # a tie counts half
    assert backtest.auc([3, 2, 1], [1, 0, 0]) == pytest.approx(1.0)
    assert backtest.auc([1, 2], [0, 0]) is None


def _decision(account, day, action, old, new, score, old_status="active", new_status="active"):
    return {"account_id": account, "review_date": pd.Timestamp(day), "action": action, "old_limit_fen": old,
            "new_limit_fen": new, "old_status": old_status, "new_status": new_status, "guardrail": None,
            "score": score, "approved_limit_fen": 1000}


def test_rates_cuts_and_exposure_on_a_tiny_replay():
    decisions = pd.DataFrame([
        # first review (scored by 60+ days past due at a later snapshot)
        _decision(1, "2005-04-30", "DECREASE", 1000, 500, 400),
        _decision(2, "2005-04-30", "HOLD", 1000, 1000, 700),
        _decision(3, "2005-04-30", "FREEZE", 1000, 1000, 380, new_status="frozen"),
        _decision(4, "2005-04-30", "HOLD", 1000, 1000, 650),
        # last review (scored by the outcome file)
        _decision(1, "2005-05-31", "HOLD", 500, 500, 420),  # cut in April, still in force
        _decision(2, "2005-05-31", "DECREASE", 1000, 800, 560),
        _decision(3, "2005-05-31", "HOLD", 1000, 1000, 390, old_status="frozen", new_status="frozen"),
        _decision(4, "2005-05-31", "HOLD", 1000, 1000, 690),
    ])
    delinquent = pd.DataFrame({"account_id": [1, 2, 4], "snapshot_date": pd.to_datetime(
        ["2005-05-31", "2005-04-30", "2005-05-31"])})  # account 2 was late before, not after April
    outcomes = pd.DataFrame({"account_id": [1, 2, 3, 4], "defaulted": [True, False, True, False]})
    profiles = pd.DataFrame({"account_id": [1, 2, 3, 4], "birth_year": [1980, 1950, None, 1976],
                             "sex": ["female", "male", "female", None]})
    summary = backtest.score(decisions, delinquent, outcomes, profiles, tuning_months=1)

    april = summary["per_month"]["2005-04-30"]
    assert april["bad"] == 2 and april["bad_rate"] == pytest.approx(0.5)  # accounts 1 and 4
    assert april["bad_cut_share"] == pytest.approx(0.5)  # account 1 cut, 4 not
    assert april["good_cut_share"] == pytest.approx(0.5)  # account 3 frozen, 2 not
    by_action = {row["action"]: row for row in april["by_action"]}
    assert by_action["HOLD"]["accounts"] == 2 and by_action["HOLD"]["bad_rate"] == pytest.approx(0.5)
    assert by_action["HOLD"]["share_of_bad"] == pytest.approx(0.5)
    assert by_action["FREEZE"]["bad_rate"] == 0
    assert summary["tuning_window"] == ["2005-04-30"]

    final = summary["final_review"]
    assert final["review_date"] == "2005-05-31" and final["bad"] == 2  # the outcome file: 1 and 3
    assert final["bad_cut_share"] == pytest.approx(1.0)  # 1 still cut, 3 still frozen
    assert final["good_cut_share"] == pytest.approx(0.5)  # 2 decreased in May, 4 spared
    assert final["bad_lowered_share"] == 0 and final["good_lowered_share"] == pytest.approx(0.5)
    # exposure of the bad: (1000 - 500) + (1000 - 0) of 2000
    assert final["bad_exposure_cut_share"] == pytest.approx(0.75)
    # risk = low score: bad scores 420 and 390 against good 560 and 690: every pair ranked right
    assert final["auc_score"] == pytest.approx(1.0)
    assert summary["goal_met"] == {"defaulters_cut": True, "good_cut": False, "auc": True}

    sex = {row["group"]: row for row in summary["fairness"]["sex"]}
    assert sex["female"]["accounts"] == 2 and sex["female"]["cut_rate"] == pytest.approx(1.0)
    assert sex["male"]["decrease_rate"] == pytest.approx(1.0) and sex["unknown"]["cut_rate"] == 0
    bands = {row["group"]: row["accounts"] for row in summary["fairness"]["age_band"]}
    assert bands == {"under 30": 2, "50-59": 1, "unknown": 1}  # aged 25 and 29, 55, unknown in 2005
