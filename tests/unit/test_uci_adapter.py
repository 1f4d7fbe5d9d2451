"""The UCI adapter on a sample of the real file: mapping, units, protected attributes, no look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from post_loan_review import uci


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return uci.read_uci(nrows=2000)


def test_the_file_read_is_the_published_one():
    """Whichever copy DEFAULT_PATH found (the shared data or the one kept with the tests), it is
    byte for byte the file of ../shared/data/uci_credit_card/README.md."""
    import hashlib

    digest = hashlib.sha256(uci.DEFAULT_PATH.read_bytes()).hexdigest()
    assert digest == "848715ec0c4b9671f35005d70b697689de8f9c39330af227e3fd6c7d76918d5d"
    kept = uci._PROJECT / "tests" / "data" / uci.UCI_FILE
    assert hashlib.sha256(kept.read_bytes()).hexdigest() == digest


def test_first_account_is_mapped_as_documented(raw):
    # ID 1: limit NT$20,000; status April -2, May -2, June -1, July -1, August 2, September 2;
    # bills Sep..Apr 3913, 3102, 689, 0, 0, 0; paid in August 689; AGE 24, SEX 2, EDUCATION 2, MARRIAGE 1
    september = uci.deliveries(raw, 5)
    account = september["accounts"].iloc[0]
    assert account["account_id"] == 1 and account["approved_limit_fen"] == 20_000 * 100
    assert account["outstanding_balance_fen"] == 3913 * 100
    repayment = september["repayment_snapshots"].iloc[0]
    assert repayment["days_past_due"] == 60 and repayment["statement_balance_fen"] == 391_300
    assert repayment["overdue_count_3m"] == 2 and repayment["overdue_count_6m"] == 2
    assert repayment["on_time_full_payment_months"] == 0 and repayment["min_payment_only_months"] == 0
    assert repayment["utilisation_ratio"] == pytest.approx(3913 / 20000)
    june = uci.deliveries(raw, 2)["repayment_snapshots"].iloc[0]
    assert june["days_past_due"] == 0 and june["on_time_full_payment_months"] == 3  # April -2, May -2, June -1
    profile = september["customer_profiles"].iloc[0]
    assert (profile["birth_year"], profile["sex"], profile["education"], profile["marital_status"]) == \
        (1981, "female", "university", "married")


def test_quirks_negative_statements_and_undocumented_codes(raw):
    month = uci.deliveries(raw, 5)
    negative = raw["BILL_AMT1"] < 0
    assert negative.any()
    repayments = month["repayment_snapshots"]
    assert (repayments.loc[negative.to_numpy(), "statement_balance_fen"] == 0).all()
    assert (repayments[["statement_balance_fen", "minimum_due_fen", "amount_paid_fen"]] >= 0).all().all()
    assert repayments["utilisation_ratio"].between(0, 5).all()
    undocumented = raw["EDUCATION"].isin([0, 5, 6]).to_numpy()
    assert undocumented.any()
    assert month["customer_profiles"].loc[undocumented, "education"].isna().all()
    assert set(month["customer_profiles"]["sex"]) == {"female", "male"}


def test_scores_are_in_the_policy_range_and_protected_attributes_stay_in_profiles(raw):
    for month in range(6):
        tables = uci.deliveries(raw, month)
        assert tables["credit_score_snapshots"]["score"].between(350, 950).all()
        for table in ("accounts", "credit_score_snapshots", "repayment_snapshots"):
            columns = {c.lower() for c in tables[table].columns}
            assert not columns & {"sex", "age", "birth_year", "education", "marital_status", "marriage"}, table


def test_a_month_is_computed_from_it_and_earlier_months_only(raw):
    altered = raw.copy()
    for later in range(3, 6):  # July .. September made catastrophic
        altered[uci.STATUS_COLUMNS[later]] = 8
        altered[uci.BILL_COLUMNS[later]] = 999_999
        altered[uci.PAID_COLUMNS[later]] = 0
    altered[uci.DEFAULT_COLUMN] = 1
    for month in range(3):
        for table, frame in uci.deliveries(raw, month).items():
            pd.testing.assert_frame_equal(frame, uci.deliveries(altered, month)[table], check_exact=True)
    assert not uci.deliveries(raw, 3)["repayment_snapshots"].equals(uci.deliveries(altered, 3)["repayment_snapshots"])


def test_score_weights_come_from_in_window_outcomes_only():
    full = uci.read_uci()
    refit = uci.fit_score_weights(full)
    assert refit == pytest.approx(uci.SCORE_WEIGHTS, abs=1e-3)
    scrambled = full.copy()
    scrambled[uci.DEFAULT_COLUMN] = np.random.default_rng(7).integers(0, 2, len(full))
    assert uci.fit_score_weights(scrambled) == refit  # the October default is never read


def test_the_validation_fold_is_a_fixed_fifth_of_the_accounts_by_id():
    ids = np.arange(1, 30_001)
    fold = uci.validation_fold(ids)
    assert set(fold) == {0, 1, 2, 3, 4} and 0.18 < (fold == 0).mean() < 0.22
    assert (uci.validation_fold(ids[::-1]) == fold[::-1]).all()  # by id, not by position


def test_the_score_label_stays_inside_the_window(raw):
    # July's label: 60+ days past due in August or September, never past September whatever the horizon
    _, labels = uci.in_window_design(raw, range(3, 4), horizon=5)
    later = (raw[["PAY_2", "PAY_0"]] >= 2).any(axis=1).to_numpy()
    assert (labels[0] == later).all()


def test_outcomes_are_the_october_default(raw):
    outcomes = uci.outcomes(raw)
    assert outcomes["defaulted"].sum() == (raw[uci.DEFAULT_COLUMN] == 1).sum()
    assert outcomes["account_id"].is_unique
