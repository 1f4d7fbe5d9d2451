"""Each signal of the domain, one healthy account changed in one way, through the real v1 policy."""

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from factories import inputs

from post_loan_review.policy import PolicyError, load_policy, load_policy_file
from post_loan_review.reassess import decide
from post_loan_review.runs import ReviewRun

RUN = ReviewRun(date(2026, 11, 27), "live", "v1")
POLICY = load_policy("v1")


def one(**changes):
    return decide(inputs(changes), RUN, POLICY, np.array([])).decisions.iloc[0]


def test_a_healthy_account_is_held_without_reasons():
    decision = one()
    assert decision["action"] == "HOLD"
    assert decision["new_limit_fen"] == decision["old_limit_fen"] == 1_000_000
    assert decision[["reason_1", "reason_2", "reason_3", "reason_4"]].isna().all()


@pytest.mark.parametrize("changes, action, reason", [
    ({"takeover_suspected_events": 1}, "FREEZE", "SECURITY_ACCOUNT_TAKEOVER"),
    ({"sim_change_events": 1, "password_reset_events": 1}, "DECREASE_TO_FLOOR", "SECURITY_CREDENTIAL_CHANGE"),
    ({"days_past_due": 95, "outstanding_balance_fen": 0}, "DECREASE_TO_FLOOR", "REPAYMENT_SEVERELY_OVERDUE"),
    ({"days_past_due": 12}, "DECREASE", "REPAYMENT_OVERDUE"),
    ({"overdue_count_6m": 2}, "DECREASE", "REPAYMENT_REPEATED_OVERDUE"),
    ({"score": 480, "previous_score": 482, "baseline_score_90d": 481.0}, "DECREASE", "SCORE_LOW"),
    ({"score": 610, "previous_score": 700}, "DECREASE", "SCORE_DROP"),
    ({"min_payment_only_months": 4}, "DECREASE", "REPAYMENT_MINIMUM_ONLY"),
    ({"inquiries_30d": 7, "inquiries_90d": 8}, "DECREASE", "BORROWING_FREQUENT_APPLICATIONS"),
    ({"inquiries_90d": 14}, "DECREASE", "BORROWING_MANY_APPLICATIONS_90D"),
    ({"txn_count_30d": 90}, "DECREASE", "SPENDING_BURST"),
    ({"largest_txn_30d_fen": 900_000, "txn_amount_30d_fen": 950_000}, "DECREASE", "SPENDING_LARGE_AMOUNT"),
    ({"txn_count_30d": 0, "txn_amount_30d_fen": 0, "days_since_last_txn": 40}, "DECREASE", "SPENDING_SUDDEN_STOP"),
])
def test_each_lowering_signal_lowers_with_its_reason(changes, action, reason):
    decision = one(**changes)
    assert decision["action"] == action
    assert decision["reason_1"] == reason
    if action == "FREEZE":
        assert decision["new_status"] == "frozen" and decision["new_limit_fen"] == 1_000_000
    else:
        assert decision["new_limit_fen"] < decision["old_limit_fen"]
    if action == "DECREASE_TO_FLOOR":
        assert decision["new_limit_fen"] == 5_000


def test_a_decrease_step_is_the_rule_share_of_the_old_limit_in_whole_yuan():
    decision = one(days_past_due=12, old_limit_fen=333_333)
    assert decision["new_limit_fen"] == 233_300  # 70 % of 3,333.33 yuan, rounded down to the yuan


def test_signals_compound_but_one_review_never_cuts_more_than_the_cap():
    decision = one(days_past_due=12, overdue_count_6m=3, score=480, previous_score=482, baseline_score_90d=481.0,
                   min_payment_only_months=5, inquiries_30d=9, inquiries_90d=20)
    assert decision["action"] == "DECREASE"
    assert decision["new_limit_fen"] == 500_000  # 50 % cap of policy v1


def test_reasons_are_ranked_by_severity_and_at_most_four():
    decision = one(days_past_due=12, overdue_count_6m=3, score=480, previous_score=482, baseline_score_90d=481.0,
                   min_payment_only_months=5, inquiries_30d=9, inquiries_90d=20)
    assert list(decision[["reason_1", "reason_2", "reason_3", "reason_4"]]) == [
        "REPAYMENT_OVERDUE", "REPAYMENT_REPEATED_OVERDUE", "SCORE_LOW", "REPAYMENT_MINIMUM_ONLY"]


def test_the_strongest_action_wins():
    decision = one(takeover_suspected_events=1, days_past_due=12)
    assert decision["action"] == "FREEZE"
    assert decision["reason_1"] == "SECURITY_ACCOUNT_TAKEOVER"
    assert decision["reason_2"] == "REPAYMENT_OVERDUE"


@pytest.mark.parametrize("changes, reason", [
    ({"on_time_full_payment_months": 8}, "RESTORE_ON_TIME_REPAYMENT"),
    ({"verified_monthly_income_fen": 1_500_000}, "RESTORE_VERIFIED_INCOME"),
    ({"external_debt_fen": 200_000, "inquiries_90d": 0, "verified_monthly_income_fen": 1_500_000},
     "RESTORE_VERIFIED_INCOME"),
])
def test_restoration_is_one_step_of_the_approved_limit(changes, reason):
    decision = one(old_limit_fen=400_000, **changes)
    assert decision["action"] == "RESTORE"
    assert decision["reason_1"] == reason
    assert decision["new_limit_fen"] == 600_000  # + 20 % of the 10,000-yuan approved limit


def test_no_restoration_without_ability_to_pay_or_with_any_lowering_signal():
    assert one(old_limit_fen=400_000, on_time_full_payment_months=8, score=580, previous_score=585,
               baseline_score_90d=583.0)["action"] == "HOLD"
    lowered = one(old_limit_fen=400_000, on_time_full_payment_months=8, inquiries_30d=7)
    assert lowered["action"] == "DECREASE"


def test_restoration_stops_at_the_approved_limit_and_the_customer_cap():
    assert one(old_limit_fen=900_000, on_time_full_payment_months=8)["new_limit_fen"] == 1_000_000
    capped = one(old_limit_fen=400_000, customer_cap_fen=500_000, on_time_full_payment_months=8)
    assert capped["new_limit_fen"] == 500_000
    at_cap = one(old_limit_fen=500_000, customer_cap_fen=500_000, on_time_full_payment_months=8)
    assert at_cap["action"] == "HOLD" and pd.isna(at_cap["reason_1"])  # nothing to restore


def test_a_payment_a_few_days_late_is_within_the_grace_period():
    assert one(days_past_due=3)["action"] == "HOLD"
    assert one(days_past_due=6)["action"] == "DECREASE"


def test_the_evaluation_is_vectorised_over_many_accounts():
    frame = inputs(*[{"days_past_due": d} for d in range(5, 105)])
    decisions = decide(frame, RUN, POLICY, np.array([])).decisions
    assert len(decisions) == 100
    assert (decisions["action"].iloc[1:] != "HOLD").all()


def _write_policy(tmp_path: Path, text: str, name: str = "v9") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_policy_whose_version_does_not_match_its_file_is_refused(tmp_path):
    text = POLICY.path.read_text(encoding="utf-8")
    with pytest.raises(PolicyError, match="does not match the file name"):
        load_policy_file(_write_policy(tmp_path, text))


def test_a_policy_error_names_the_file_and_the_field(tmp_path):
    text = POLICY.path.read_text(encoding="utf-8").replace("version: v1", "version: v9")
    broken = text.replace("    decrease_pct: 30\n", "    decrease_pct: 130\n", 1)
    with pytest.raises(PolicyError, match=r"v9\.yaml: lowering_rules\[3\] \(REPAYMENT_OVERDUE\)\.decrease_pct"):
        load_policy_file(_write_policy(tmp_path, broken))
    unknown = text.replace("action: FREEZE", "action: CLOSE")
    with pytest.raises(PolicyError, match=r"\.action: 'CLOSE' is not one of DECREASE, DECREASE_TO_FLOOR, FREEZE"):
        load_policy_file(_write_policy(tmp_path, unknown))


def test_a_condition_on_an_unknown_feature_is_refused_at_load_with_its_key_path(tmp_path):
    text = POLICY.path.read_text(encoding="utf-8").replace("version: v1", "version: v9")
    text = text.replace("when: days_past_due > 60", "when: days_overdue > 60")
    with pytest.raises(PolicyError, match=r"lowering_rules\[2\] \(REPAYMENT_SEVERELY_OVERDUE\)\.when: "
                                          r"unknown feature 'days_overdue'"):
        load_policy_file(_write_policy(tmp_path, text))


def test_unknown_policy_versions_list_the_available_ones():
    with pytest.raises(PolicyError, match="have: v1"):
        load_policy("v404")


@pytest.mark.parametrize("old, new, message", [
    ("signal: score\n", "signal: mood\n", r"lowering_rules\[5\] \(SCORE_LOW\)\.signal: 'mood' is not one of"),
    ("    when: score < 500\n", "    when: score < 1500\n", r"SCORE_LOW\)\.when: threshold 1500 for score is outside"),
    ("    when: score < 500\n", "    when: age < 30\n", r"SCORE_LOW\)\.when: 'age' is a protected attribute"),
    ("    when: score < 500\n", "    when: days_past_due > 5\n",
     r"lowering_rules\[5\] \(SCORE_LOW\): overlaps lowering_rules\[3\] \(REPAYMENT_OVERDUE\)"),
    ("    when: score < 500\n", "    when: score < 500 and score > 600\n", r"SCORE_LOW\)\.when: .* can never be true"),
    ("      en: your credit score is low\n", "", r"SCORE_LOW\)\.reason\.en: is missing"),
    ("  floor_yuan: 50\n", "  floor_yuan: 0\n", r"limits\.floor_yuan: 0 is out of range"),
    ("  max_decrease_pct: 50 ", "  max_decrese_pct: 50 ", r"limits: unknown key\(s\) 'max_decrese_pct'"),
    ("  - code: SCORE_LOW\n", "  - code: score low\n", r"lowering_rules\[5\]\.code: 'score low' must be UPPER_SNAKE_CASE"),
    ("    decrease_pct: 30\n    severity: 75\n", "    severity: 75\n", r"SCORE_LOW\)\.decrease_pct: is missing"),
])
def test_a_bad_policy_is_refused_naming_the_key_path_and_the_fault(tmp_path, old, new, message):
    text = POLICY.path.read_text(encoding="utf-8").replace("version: v1", "version: v9")
    assert old in text, f"the test's anchor {old!r} is not in v1.yaml any more"
    with pytest.raises(PolicyError, match=message):
        load_policy_file(_write_policy(tmp_path, text.replace(old, new, 1)))


def test_every_rule_of_v1_can_fire_and_no_rule_reads_a_protected_attribute():
    from post_loan_review.features import PROTECTED_ATTRIBUTES

    assert not set(POLICY.features) & PROTECTED_ATTRIBUTES
    for rule in POLICY.rules:
        assert rule.reason["zh-CN"] and rule.reason["en"] and rule.advice["zh-CN"] and rule.advice["en"]
