"""The guardrails between a rule and a customer: each one alone, on the real v1 policy."""

from datetime import date

import numpy as np
import pandas as pd
import pytest
from factories import inputs

from post_loan_review.guardrails import _check_bounds
from post_loan_review.policy import load_policy
from post_loan_review.reassess import decide
from post_loan_review.runs import ReviewRun

RUN = ReviewRun(date(2026, 11, 27), "live", "v1")
POLICY = load_policy("v1")


def one(quarantined=(), **changes):
    return decide(inputs(changes), RUN, POLICY, np.array(list(quarantined))).decisions.iloc[0]


def test_a_cut_never_goes_below_balance_plus_buffer():
    decision = one(days_past_due=12, outstanding_balance_fen=800_000)
    assert decision["action"] == "DECREASE"
    assert decision["new_limit_fen"] == 880_000  # 8,000 yuan balance + 10 %
    assert decision["guardrail"] == "BALANCE_BUFFER"


def test_a_cut_the_buffer_fully_blocks_is_a_hold():
    decision = one(days_past_due=12, outstanding_balance_fen=950_000)
    assert decision["action"] == "HOLD"
    assert decision["new_limit_fen"] == decision["old_limit_fen"]
    assert decision["guardrail"] == "BALANCE_BUFFER"
    assert decision["reason_1"] == "REPAYMENT_OVERDUE"  # the signal is still on record


def test_security_cuts_ignore_the_balance_buffer():
    decision = one(sim_change_events=1, password_reset_events=1, outstanding_balance_fen=900_000)
    assert decision["action"] == "DECREASE_TO_FLOOR"
    assert decision["new_limit_fen"] == POLICY.floor_fen


def test_a_severe_overdue_cut_stopped_by_the_buffer_becomes_a_plain_decrease():
    decision = one(days_past_due=95, outstanding_balance_fen=300_000)
    assert decision["action"] == "DECREASE"
    assert decision["new_limit_fen"] == 330_000


def test_the_floor_holds_and_an_account_at_the_floor_is_held():
    at_floor = one(days_past_due=12, old_limit_fen=5_000, outstanding_balance_fen=0)
    assert at_floor["action"] == "HOLD" and at_floor["guardrail"] == "AT_FLOOR"
    near_floor = one(days_past_due=12, old_limit_fen=6_000, outstanding_balance_fen=0)
    assert near_floor["new_limit_fen"] == 5_000 and near_floor["guardrail"] == "FLOOR"


def test_no_second_ordinary_cut_within_the_cool_off():
    recent = pd.Timestamp("2026-11-10")
    decision = one(days_past_due=12, last_decrease_date=recent)
    assert decision["action"] == "HOLD" and decision["guardrail"] == "COOL_OFF_DECREASE"
    old_cut = one(days_past_due=12, last_decrease_date=pd.Timestamp("2026-09-01"))
    assert old_cut["action"] == "DECREASE"


def test_security_is_not_delayed_by_the_cool_off_or_an_open_appeal():
    decision = one(takeover_suspected_events=1, last_decrease_date=pd.Timestamp("2026-11-20"), has_open_appeal=True)
    assert decision["action"] == "FREEZE"


def test_no_restoration_soon_after_a_cut_or_a_previous_step():
    after_cut = one(old_limit_fen=400_000, on_time_full_payment_months=8, last_decrease_date=pd.Timestamp("2026-10-01"))
    assert after_cut["action"] == "HOLD" and after_cut["guardrail"] == "COOL_OFF_INCREASE"
    after_step = one(old_limit_fen=400_000, on_time_full_payment_months=8, last_increase_date=pd.Timestamp("2026-11-20"))
    assert after_step["action"] == "HOLD" and after_step["guardrail"] == "COOL_OFF_INCREASE"


def test_an_open_appeal_pauses_automated_decreases():
    decision = one(days_past_due=12, has_open_appeal=True)
    assert decision["action"] == "HOLD" and decision["guardrail"] == "APPEAL_OPEN"


def test_a_frozen_account_waits_for_a_person():
    decision = one(status="frozen", days_past_due=12)
    assert decision["action"] == "HOLD" and decision["guardrail"] == "ACCOUNT_FROZEN"
    assert decision["new_status"] == "frozen"


def test_quarantined_or_missing_data_gets_no_action():
    quarantined = one(quarantined=[1], days_past_due=12)
    assert quarantined["action"] == "HOLD" and quarantined["guardrail"] == "DATA_QUALITY_HOLD"
    missing = one(score=pd.NA, days_past_due=12)
    assert missing["action"] == "HOLD" and missing["guardrail"] == "MISSING_SNAPSHOT"


def test_a_breach_of_the_floor_or_ceiling_is_refused_not_written():
    with pytest.raises(RuntimeError, match="guardrail breach: 1 decision"):
        _check_bounds(np.array([7]), np.array([10_000]), np.array([4_000]), np.array([20_000]), 5_000)
    _check_bounds(np.array([7]), np.array([4_000]), np.array([4_000]), np.array([20_000]), 5_000)  # unchanged is fine


def test_a_customer_who_refused_automated_decisions_goes_to_a_person():
    decision = one(days_past_due=12, refused_automated_decisions=True)
    assert decision["action"] == "MANUAL_REVIEW" and decision["guardrail"] == "MANUAL_REVIEW_REQUIRED"
    assert decision["new_limit_fen"] == decision["old_limit_fen"]
    assert decision["reason_1"] == "REPAYMENT_OVERDUE"  # the person sees why it was flagged
    quiet = one(refused_automated_decisions=True)
    assert quiet["action"] == "HOLD"  # nothing proposed, nothing to review


def test_no_restoration_without_evidence_of_ability_to_pay():
    reduced_borrowing = {"old_limit_fen": 400_000, "external_debt_fen": 200_000, "inquiries_90d": 0}
    decision = one(**reduced_borrowing)
    assert decision["action"] == "HOLD" and decision["guardrail"] == "NO_ABILITY_TO_PAY_EVIDENCE"
    with_income = one(**reduced_borrowing, verified_monthly_income_fen=800_000)
    assert with_income["action"] == "RESTORE"


def test_the_trace_shows_each_fired_check_and_each_guardrail_with_its_values():
    decided = decide(inputs({"days_past_due": 12, "outstanding_balance_fen": 800_000}), RUN, POLICY, np.array([]))
    traces = decided.traces.set_index("code")
    assert traces.loc["REPAYMENT_OVERDUE", "detail"] == "days_past_due = 12 > 5"
    assert traces.loc["REPAYMENT_OVERDUE", "observed_value"] == 12 and traces.loc["REPAYMENT_OVERDUE", "threshold"] == 5
    assert traces.loc["BALANCE_BUFFER", "kind"] == "guardrail"
    assert traces.loc["BALANCE_BUFFER", "detail"] == "balance ¥8000.00 + 10 % = ¥8800.00"
    assert list(decided.traces["step"]) == sorted(decided.traces["step"])


def test_a_floor_cut_the_buffer_turns_into_an_ordinary_cut_waits_out_the_cool_off():
    decision = one(days_past_due=95, outstanding_balance_fen=300_000, last_decrease_date=pd.Timestamp("2026-11-20"))
    assert decision["action"] == "HOLD" and decision["guardrail"] == "COOL_OFF_DECREASE"
    assert decision["new_limit_fen"] == decision["old_limit_fen"]
    real_floor_cut = one(days_past_due=95, outstanding_balance_fen=0, last_decrease_date=pd.Timestamp("2026-11-20"))
    assert real_floor_cut["action"] == "DECREASE_TO_FLOOR"  # severe enough to cut again at once
