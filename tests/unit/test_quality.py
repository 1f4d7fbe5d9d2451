"""The Great Expectations gate: clean data passes, a few bad rows are quarantined with the rule
they broke, a broken feed stops the run with an error naming table, column and rule."""

import numpy as np
import pandas as pd
import pytest

from post_loan_review.quality import (MAX_BAD_ROW_SHARE, REQUIRED_COLUMNS, QualityGateError, table_level_results,
                                       validate_table)


def scores(n=2000, **overrides):
    frame = pd.DataFrame({
        "account_id": np.arange(1, n + 1, dtype="int64"),
        "snapshot_date": pd.Timestamp("2026-11-27"),
        "score": pd.array(np.full(n, 700), dtype="Int64"),
        "model_version": "m1",
        "known_account_id": pd.array(np.arange(1, n + 1), dtype="Int64"),
    })
    for column, values in overrides.items():
        for index, value in values.items():
            frame.loc[index, column] = value
    return frame


def failed(results):
    return set(results.loc[~results["success"], "expectation"])


BOOK = {"credit_score_snapshots": 2000, "repayment_snapshots": 2000}


def test_clean_scores_pass_every_expectation():
    results, quarantined = validate_table("credit_score_snapshots", scores())
    book = table_level_results(BOOK, BOOK, reviewable=2000)
    results = pd.concat([results, book], ignore_index=True)
    assert results["success"].all()
    assert {"snapshot_present", "account_id_unique", "score_in_range", "row_count_stable"} <= set(results["expectation"])
    assert quarantined.empty


def test_a_few_bad_rows_are_quarantined_with_their_rule_and_value():
    frame = scores(score={4: 9999, 9: 120, 11: pd.NA}, known_account_id={20: pd.NA})
    results, quarantined = validate_table("credit_score_snapshots", frame)
    assert results["success"].all()  # a handful of rows is not an incident
    by_rule = quarantined.set_index(["account_id", "rule"])["bad_value"]
    assert by_rule[(5, "score_in_range")] == "9999"
    assert by_rule[(10, "score_in_range")] == "120"
    assert (12, "score_present") in by_rule.index
    assert (21, "account_known") in by_rule.index
    assert len(quarantined) == 4


def test_too_many_bad_rows_fail_the_row_rule():
    n = 1000
    bad = {i: 0 for i in range(int(n * MAX_BAD_ROW_SHARE) + 5)}
    results, quarantined = validate_table("credit_score_snapshots", scores(n, score=bad))
    assert failed(results) == {"score_in_range"}
    assert len(quarantined) == len(bad)


def test_an_empty_snapshot_fails_the_critical_presence_rule():
    results = table_level_results({**BOOK, "credit_score_snapshots": 0}, {}, reviewable=2000)
    assert "snapshot_present" in failed(results)


def test_a_volume_jump_against_the_previous_day_fails():
    results = table_level_results({**BOOK, "credit_score_snapshots": 1000}, BOOK, reviewable=2000)
    assert failed(results) == {"row_count_stable"}
    row = results.set_index(["table_name", "expectation"]).loc[("credit_score_snapshots", "row_count_stable")]
    assert "observed 1000" in row["details"] and row["severity"] == "critical"


def test_duplicate_accounts_fail_uniqueness():
    results, _ = validate_table("credit_score_snapshots", scores(account_id={1: 1}))
    assert "account_id_unique" in failed(results)


def test_a_missing_column_is_named():
    columns = [c for c in REQUIRED_COLUMNS["repayment_snapshots"] if c != "days_past_due"]
    frame = pd.DataFrame({column: [1] for column in columns})
    with pytest.raises(QualityGateError, match=r"repayment_snapshots: required column\(s\) days_past_due missing"):
        validate_table("repayment_snapshots", frame)
