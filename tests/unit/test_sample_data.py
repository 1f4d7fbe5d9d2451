import numpy as np
import pandas as pd

from post_loan_review import sample_data


def test_the_same_seed_gives_the_same_portfolio_and_another_seed_does_not():
    first, again, other = (sample_data.generate(2000, seed=s) for s in (3, 3, 4))
    for name, frame in first.tables().items():
        pd.testing.assert_frame_equal(frame, again.tables()[name])
    assert not first.credit_score_snapshots["score"].equals(other.credit_score_snapshots["score"])


def test_distributions_are_those_of_a_credit_line_book():
    portfolio = sample_data.generate(50_000, seed=5, bad_row_rate=0)
    accounts = portfolio.accounts
    scores = portfolio.credit_score_snapshots["score"]
    assert scores.between(350, 950).all()
    assert 620 < scores.median() < 740
    assert (accounts["current_limit_fen"] >= 5_000).all()  # never below the 50-yuan floor
    assert (accounts["current_limit_fen"] <= accounts["approved_limit_fen"]).all()
    capped = accounts["customer_cap_fen"].notna()
    assert (accounts.loc[capped, "current_limit_fen"] <= accounts.loc[capped, "customer_cap_fen"]).all()
    assert (accounts["current_limit_fen"] % 100 == 0).all()  # whole yuan
    repayments = portfolio.repayment_snapshots
    current = (repayments["days_past_due"] == 0).mean()
    assert 0.95 < current < 0.995
    assert set(accounts["status"]) == {"active", "frozen", "closed"}
    assert set(accounts["preferred_language"]) == {"zh-CN", "en"}


def test_every_cohort_carries_its_signal():
    n = 60_000
    portfolio = sample_data.generate(n, seed=9, bad_row_rate=0)
    cohort = sample_data.cohorts(n, seed=9)
    assert set(sample_data.COHORT_SHARES) <= set(cohort.unique())
    latest = portfolio.credit_score_snapshots.groupby("account_id")["score"].agg(["first", "last"])
    drop = latest["first"] - latest["last"]
    assert drop[cohort == "score_drop"].min() >= 40
    spending = portfolio.spending_snapshots.drop_duplicates("account_id").set_index("account_id")
    assert (spending.loc[cohort[cohort == "sudden_stop"].index, "txn_count_30d"] == 0).all()
    burst = spending.loc[cohort[cohort == "spending_burst"].index]
    assert (burst["txn_count_30d"] >= 4 * burst["baseline_txn_count_30d"]).all()
    repay = portfolio.repayment_snapshots.drop_duplicates("account_id").set_index("account_id")
    assert (repay.loc[cohort[cohort == "overdue"].index, "days_past_due"] > 0).all()
    assert (repay.loc[cohort[cohort == "minimum_payment"].index, "min_payment_only_months"] >= 3).all()
    events = portfolio.security_events
    assert set(events.loc[events["event_type"] == "account_takeover_suspected", "account_id"]) == \
        set(cohort[cohort == "account_takeover"].index)
    assert (portfolio.income_verifications["account_id"].isin(cohort[cohort == "verified_income"].index)).all()


def test_bad_rows_are_injected_at_the_requested_rate():
    portfolio = sample_data.generate(20_000, seed=1, bad_row_rate=0.01)
    scores = portfolio.credit_score_snapshots["score"]
    broken = (~scores.between(350, 950) | scores.isna()).mean()
    assert 0.007 < broken < 0.02
    assert (portfolio.repayment_snapshots["amount_paid_fen"] < 0).any()
    clean = sample_data.generate(20_000, seed=1, bad_row_rate=0)
    assert clean.credit_score_snapshots["score"].between(350, 950).all()
    assert np.all(clean.repayment_snapshots["amount_paid_fen"] >= 0)
