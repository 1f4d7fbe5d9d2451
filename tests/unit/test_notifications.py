"""Customer notices: the right template per language and action, amounts in yuan from integer fen,
reasons in plain words in rank order, what to do, and how to appeal."""

import pandas as pd
import pytest

from post_loan_review.notifications import render
from post_loan_review.policy import load_policy

POLICY = load_policy("v1")


def changes(*rows):
    base = {"account_id": 1, "review_date": pd.Timestamp("2026-11-27"), "action": "DECREASE",
            "old_limit_fen": 1_000_000, "new_limit_fen": 700_050, "reason_1": "REPAYMENT_OVERDUE",
            "reason_2": "SCORE_DROP", "reason_3": None, "reason_4": None, "language": "zh-CN"}
    return pd.DataFrame([{**base, "account_id": i + 1, **row} for i, row in enumerate(rows)])


def test_a_chinese_decrease_notice_says_what_changed_why_and_how_to_appeal():
    notice = render(changes({}), POLICY).iloc[0]
    assert notice["title"] == "您的信用额度已调整"
    assert "由10000.00元调整为7000.50元" in notice["body"]
    assert "2026-11-27" in notice["body"]
    reasons = POLICY.rule("REPAYMENT_OVERDUE").reason["zh-CN"] + "；" + POLICY.rule("SCORE_DROP").reason["zh-CN"]
    assert reasons in notice["body"]
    assert POLICY.rule("REPAYMENT_OVERDUE").advice["zh-CN"] in notice["body"]
    assert "申诉" in notice["body"]


def test_an_english_notice_uses_the_english_words():
    notice = render(changes({"language": "en"}), POLICY).iloc[0]
    assert notice["title"] == "Your credit limit has changed"
    assert "from 10000.00 yuan to 7000.50 yuan" in notice["body"]
    assert "your bill is currently overdue; your credit score fell sharply recently" in notice["body"]
    assert "appeal within 30 days" in notice["body"]
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in notice["body"])  # no Chinese left in English text


@pytest.mark.parametrize("action, title", [
    ("DECREASE_TO_FLOOR", "Your credit limit is now at its minimum"),
    ("FREEZE", "Your account is frozen for your protection"),
    ("RESTORE", "Your credit limit has gone up"),
])
def test_each_action_has_its_own_notice(action, title):
    notice = render(changes({"action": action, "language": "en"}), POLICY).iloc[0]
    assert notice["title"] == title


def test_rendering_many_accounts_in_mixed_languages_keeps_each_with_its_own_text():
    rows = [{"language": "en" if i % 3 else "zh-CN", "new_limit_fen": 500_000 + i * 100} for i in range(300)]
    notices = render(changes(*rows), POLICY).set_index("account_id")
    assert len(notices) == 300
    assert notices.loc[2, "body"].startswith("Dear customer") and "5001.00 yuan" in notices.loc[2, "body"]
    assert notices.loc[1, "body"].startswith("尊敬的用户") and "5000.00元" in notices.loc[1, "body"]


def test_a_single_reason_has_no_dangling_separator():
    notice = render(changes({"reason_2": None, "language": "en"}), POLICY).iloc[0]
    assert "Main reasons: your bill is currently overdue. What you can do" in notice["body"]


def test_a_challenger_arm_notice_finds_the_words_of_a_rule_only_the_challenger_has():
    import dataclasses

    from post_loan_review.policy import Challenger

    champion_v2 = dataclasses.replace(load_policy("v2"), challenger=Challenger("v1", 10, "x", "live"))
    notice = render(changes({"reason_1": "SPENDING_SUDDEN_STOP", "reason_2": None, "language": "en"}),
                    champion_v2).iloc[0]
    assert "your account stopped being used suddenly after regular use" in notice["body"]
