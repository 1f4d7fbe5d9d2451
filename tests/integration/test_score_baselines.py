"""The score baseline's sums are carried from night to night (the dates that entered the window
added, those that left it taken out) instead of summing every date of the window each night; a
carried night must give exactly what summing from scratch gives, through gaps, re-runs, another
window length and a re-imported date. On SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
from conftest import SECOND_DATE, load_portfolio
from sqlalchemy import text

from post_loan_review import db, imports, score_baselines, stages
from post_loan_review.policy import load_policy

FIRST_NIGHT = date(2026, 3, 1)
WINDOW = 5  # days: short, so a few nights carry, drop and refill the whole window
ACCOUNTS = 400


def _scores(day: date, seed: int) -> pd.DataFrame:
    """A date's snapshot: most accounts, some scores outside 350..950 (left out of the baseline)."""
    rng = np.random.default_rng(seed)
    ids = np.arange(1, ACCOUNTS + 1)
    present = ids[rng.random(ACCOUNTS) < 0.9]
    scores = rng.integers(300, 1000, len(present))
    return pd.DataFrame({"account_id": present, "snapshot_date": pd.Timestamp(day), "score": scores,
                         "model_version": "test"})


def _load_scores(engine, days: list[date]) -> None:
    with engine.begin() as conn:
        db.init_db(conn)
        for offset, day in enumerate(days):
            db.bulk_insert(conn, "credit_score_snapshots", _scores(day, seed=offset))


def _from_scratch(engine, review_date: date, window: int) -> pd.Series:
    """Every account's mean valid score over the window, read from the snapshots directly."""
    with engine.connect() as conn:
        scores = pd.read_sql(text("select account_id, snapshot_date, score from credit_score_snapshots"), conn)
    day = pd.to_datetime(scores["snapshot_date"])
    inside = ((day >= pd.Timestamp(review_date - timedelta(days=window))) & (day < pd.Timestamp(review_date))
              & scores["score"].between(350, 950))
    return scores[inside].groupby("account_id")["score"].mean().sort_index()


def _stored(engine, review_date: date, window: int) -> pd.Series:
    with engine.connect() as conn:
        sums = pd.read_sql(text("select account_id, score_sum, score_count from score_baselines "
                                "where review_date = :d and baseline_days = :w"),
                           conn, params={"d": review_date, "w": window})
    assert not sums["account_id"].duplicated().any()
    return (sums["score_sum"] / sums["score_count"]).set_axis(sums["account_id"]).rename("score").sort_index()


def _stage(engine, review_date: date, window: int = WINDOW) -> str:
    with engine.begin() as conn:
        return score_baselines.stage_score_baselines(conn, review_date, window)


def _nights(start: date, count: int) -> list[date]:
    return [start + timedelta(days=k) for k in range(count)]


def test_carried_nights_equal_the_window_summed_from_scratch(any_warehouse):
    days = _nights(FIRST_NIGHT, 16)
    _load_scores(any_warehouse, days)
    nightly = days[1:10] + days[12:15]  # two nights skipped: the next one carries across the gap
    how = {night: _stage(any_warehouse, night) for night in nightly}
    assert how[nightly[0]] == "summed from scratch"
    assert how[days[2]] == f"carried from {days[1]}"
    assert how[days[12]] == f"carried from {days[9]}"  # 3 nights back, inside the window
    for night in nightly[-score_baselines.NIGHTS_KEPT:]:
        pd.testing.assert_series_equal(_stored(any_warehouse, night, WINDOW),
                                       _from_scratch(any_warehouse, night, WINDOW), check_names=False)
    # a night after a gap longer than the window has nothing to carry
    assert _stage(any_warehouse, days[14] + timedelta(days=WINDOW + 1)) == "summed from scratch"


def test_a_rerun_reads_the_stored_sums_and_old_nights_are_pruned(any_warehouse):
    days = _nights(FIRST_NIGHT, 12)
    _load_scores(any_warehouse, days)
    for night in days[1:]:
        _stage(any_warehouse, night)
    assert _stage(any_warehouse, days[-1]) == "stored by an earlier run"
    with any_warehouse.connect() as conn:
        kept = sorted(pd.to_datetime(pd.read_sql(text("select distinct review_date from score_baselines"), conn)
                                     ["review_date"]).dt.date)
        nights = len(pd.read_sql(text("select * from score_baseline_nights"), conn))
    assert kept == days[-score_baselines.NIGHTS_KEPT - 1:] and nights == len(kept)


def test_another_window_length_is_summed_apart(any_warehouse):
    days = _nights(FIRST_NIGHT, 10)
    _load_scores(any_warehouse, days)
    for night in days[5:9]:
        _stage(any_warehouse, night)
    assert _stage(any_warehouse, days[9], window=3) == "summed from scratch"
    pd.testing.assert_series_equal(_stored(any_warehouse, days[9], 3), _from_scratch(any_warehouse, days[9], 3),
                                   check_names=False)


def test_reimporting_a_past_date_drops_the_sums_that_held_it(any_warehouse):
    days = _nights(FIRST_NIGHT, 10)
    _load_scores(any_warehouse, days)
    for night in days[3:9]:
        _stage(any_warehouse, night)
    corrected = days[6]
    rescored = _scores(corrected, seed=99)
    with any_warehouse.begin() as conn:
        imports.load(conn, {"credit_score_snapshots": rescored}, corrected)
    # the nights after the corrected date are gone; the next one carries the night of that date,
    # whose window ended before it
    assert _stage(any_warehouse, days[9]) == f"carried from {corrected}"
    pd.testing.assert_series_equal(_stored(any_warehouse, days[9], WINDOW),
                                   _from_scratch(any_warehouse, days[9], WINDOW), check_names=False)


def test_the_extract_stages_the_baseline_the_snapshots_give(any_warehouse):
    """Through the stage: every account's staged baseline is its mean valid score of the window,
    on the first night (from scratch) and on the next (carried)."""
    load_portfolio(any_warehouse, accounts=500)
    first_night = SECOND_DATE + timedelta(days=1)  # the portfolio's two score dates both in its window
    second_night = first_night + timedelta(days=1)
    for night, how in ((first_night, "summed from scratch"), (second_night, f"carried from {first_night}")):
        run = stages.resolve_review_date(night, False, None)
        window = load_policy(run["policy_version"]).score_baseline_days
        assert stages.extract_snapshots(run)["score_baselines"] == how
        with any_warehouse.connect() as conn:
            staged = pd.read_sql(text("select account_id, baseline_score_90d from review_inputs "
                                      "where review_date = :d"), conn, params={"d": night})
        got = staged.set_index("account_id")["baseline_score_90d"].dropna().astype(float).sort_index()
        expected = _from_scratch(any_warehouse, night, window)
        assert len(got) > 400 and set(got.index) == set(expected.index) & set(staged["account_id"])
        pd.testing.assert_series_equal(got, expected.reindex(got.index).astype(float), check_names=False)
