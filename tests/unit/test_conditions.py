"""The condition language of policy rules: what it accepts, what it refuses and why."""

import numpy as np
import pytest

from post_loan_review.conditions import ConditionError, parse
from post_loan_review.features import FEATURE_RANGES, PROTECTED_ATTRIBUTES


def condition(text):
    return parse(text, FEATURE_RANGES, PROTECTED_ATTRIBUTES)


def test_comparisons_joined_by_and_or_evaluate_over_arrays_with_missing_values_false():
    rule = condition("(days_past_due > 5 and score < 600) or inquiries_30d >= 6")
    values = {"days_past_due": np.array([10, 10, 0, np.nan]), "score": np.array([550, 700, 900, 500]),
              "inquiries_30d": np.array([0, 0, 7, np.nan])}
    assert rule.evaluate(values).tolist() == [True, False, True, False]
    assert [str(c) for c in rule.checks] == ["days_past_due > 5", "score < 600", "inquiries_30d >= 6"]


def test_the_same_condition_in_another_order_has_the_same_normal_form():
    assert condition("score < 600 and days_past_due > 5").normal_form() == \
        condition("days_past_due > 5 and score < 600").normal_form()


@pytest.mark.parametrize("text, message", [
    ("days_overdue > 5", "unknown feature 'days_overdue'"),
    ("age < 30", "'age' is a protected attribute"),
    ("education == 2", "'education' is a protected attribute"),
    ("score < 1200", "threshold 1200 for score is outside its range 350..950"),
    ("days_past_due > 10 and days_past_due < 5", "can never be true"),
    ("score > 700 and score < 600", "can never be true"),
    ("score == 600 and score != 600", "can never be true"),
    ("score < 600 or", "is not a condition"),
    ("score + 1 > 5", "the left side of a comparison must be a feature name"),
    ("score > other", "must be compared with a number"),
    ("1 < score < 600", "one comparison at a time"),
    ("__import__('os').system('x')", "only comparisons"),
    ("", "non-empty"),
])
def test_conditions_outside_the_language_are_refused_with_the_reason(text, message):
    with pytest.raises(ConditionError, match=message.replace("(", r"\(").replace(")", r"\)").replace("+", r"\+")):
        condition(text)


def test_an_or_is_reachable_when_one_branch_is():
    assert condition("(score > 700 and score < 600) or days_past_due > 5").satisfiable(FEATURE_RANGES)
