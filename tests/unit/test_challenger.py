"""Champion / challenger: stable assignment by hash, the arm on every decision, live and shadow."""

import dataclasses
from datetime import date

import numpy as np
import pytest
from factories import inputs

from post_loan_review.policy import Challenger, PolicyError, load_policy, load_policy_file
from post_loan_review.reassess import BUCKETS, decide, stable_bucket
from post_loan_review.runs import ReviewRun

RUN = ReviewRun(date(2026, 11, 27), "live", "v1")
V1 = load_policy("v1")
IDS = np.arange(100_000_001, 100_200_001)


def with_challenger(share_pct, mode, experiment="floor-test"):
    return dataclasses.replace(V1, challenger=Challenger("v2", share_pct, experiment, mode))


def test_assignment_is_stable_uniform_and_independent_between_experiments():
    first = stable_bucket(IDS, "floor-test")
    assert np.array_equal(first, stable_bucket(IDS.copy(), "floor-test"))  # same every run
    assert first.min() >= 0 and first.max() < BUCKETS
    share = (first < 1000).mean()
    assert 0.095 < share < 0.105  # 10 % of buckets gets ~10 % of accounts
    other = stable_bucket(IDS, "another-test")
    both = ((first < 1000) & (other < 1000)).mean()
    assert 0.008 < both < 0.012  # independent: 10 % of 10 %


def test_a_known_account_always_lands_in_the_same_bucket():
    # pinned values: a change of the hash would silently move customers between arms mid-experiment
    assert stable_bucket(np.array([100_000_001, 123_456_789]), "floor-test").tolist() == [4940, 7483]
    assert stable_bucket(np.array([5, 100_000_001]), "floor-test")[1] == 4940  # independent of neighbours


def many_accounts(n=400):
    return inputs(*[{"account_id": 100_000_001 + i, "min_payment_only_months": 4,
                     "txn_count_30d": 0, "txn_amount_30d_fen": 0, "days_since_last_txn": 40} for i in range(n)])


def test_live_challenger_decides_for_its_share_and_records_the_champion_beside_it():
    decided = decide(many_accounts(), RUN, with_challenger(25, "live"), np.array([]))
    decisions = decided.decisions
    applied = decisions[decisions["applies"]]
    assert applied["account_id"].is_unique and len(applied) == 400  # one applied arm per account
    challenger = decisions[decisions["arm"] == "challenger"]
    assert 60 < len(challenger) < 140 and challenger["applies"].all()
    assert (challenger["policy_version"] == "v2").all()
    champion_for_them = decisions[(decisions["arm"] == "champion") & decisions["account_id"].isin(challenger["account_id"])]
    assert not champion_for_them["applies"].any()
    # v2 ignores a minimum-payment habit at low utilisation and a sudden stop: its share holds
    assert (challenger["action"] == "HOLD").all()
    assert (applied[applied["arm"] == "champion"]["action"] == "DECREASE").all()


def test_shadow_challenger_is_computed_for_everyone_and_applied_to_no_one():
    decisions = decide(many_accounts(50), RUN, with_challenger(10, "shadow"), np.array([])).decisions
    assert len(decisions) == 100
    assert decisions.loc[decisions["arm"] == "champion", "applies"].all()
    assert not decisions.loc[decisions["arm"] == "challenger", "applies"].any()


def test_a_policy_cannot_challenge_itself(tmp_path):
    text = V1.path.read_text(encoding="utf-8").replace(
        "challenger: null", "challenger: {policy: v1, share_pct: 10, experiment: x, mode: live}")
    path = tmp_path / "v1.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError, match=r"challenger\.policy: a policy cannot be its own challenger"):
        load_policy_file(path)
