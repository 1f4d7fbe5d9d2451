"""A realistic synthetic portfolio for demos, tests and benchmarks, deterministic for a seed.

Distributions follow a consumer credit line: scores 350..950 around 650, limits log-normal by
segment, utilisation skewed low, most accounts current. Cohorts carry each signal of the domain so
every rule of the policy has accounts to fire on:

lowering  score_drop, spending_burst, large_transaction, sudden_stop, overdue, minimum_payment,
          account_takeover, credential_change, multi_borrowing
restoring on_time_streak (with a reduced limit), verified_income, reduced_borrowing

A tiny share of snapshot rows is broken on purpose (``bad_row_rate``) so the quality gate always
has something to quarantine. Everything is vectorised numpy: one million accounts in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from post_loan_review import db
from post_loan_review.money import FEN_PER_YUAN

FIRST_ACCOUNT_ID = 100_000_001
SEGMENTS = np.array(["new_to_credit", "young_professional", "mass_market", "affluent"])
SEGMENT_SHARES = [0.15, 0.30, 0.45, 0.10]
# log-normal approved limits by segment, median yuan
SEGMENT_MEDIAN_LIMIT_YUAN = np.array([1_500, 6_000, 4_000, 15_000])

# share of accounts in each cohort; an account belongs to at most one
# (a nightly review of a book already reviewed every night moves a few percent of it)
COHORT_SHARES = {
    "score_drop": 0.008,
    "spending_burst": 0.004,
    "large_transaction": 0.003,
    "sudden_stop": 0.004,
    "overdue": 0.012,
    "minimum_payment": 0.010,
    "account_takeover": 0.0005,
    "credential_change": 0.001,
    "multi_borrowing": 0.006,
    "on_time_streak": 0.012,
    "verified_income": 0.006,
    "reduced_borrowing": 0.005,
}
RESTORING_COHORTS = ("on_time_streak", "verified_income", "reduced_borrowing")


@dataclass(frozen=True)
class Portfolio:
    accounts: pd.DataFrame
    credit_score_snapshots: pd.DataFrame
    repayment_snapshots: pd.DataFrame
    spending_snapshots: pd.DataFrame
    credit_inquiry_snapshots: pd.DataFrame
    security_events: pd.DataFrame
    income_verifications: pd.DataFrame
    customer_profiles: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _assign_cohorts(rng: np.random.Generator, n: int) -> np.ndarray:
    names = np.array(["none", *COHORT_SHARES])
    shares = np.array(list(COHORT_SHARES.values()))
    return names[rng.choice(len(names), size=n, p=np.concatenate([[1 - shares.sum()], shares]))]


def _round_to(values: np.ndarray, step: int) -> np.ndarray:
    return (np.round(values / step) * step).astype(np.int64)


def _make_accounts(rng: np.random.Generator, n: int, cohort: np.ndarray, first_date: date,
                   first_account_id: int = FIRST_ACCOUNT_ID) -> pd.DataFrame:
    account_id = np.arange(first_account_id, first_account_id + n, dtype=np.int64)
    segment_index = rng.choice(len(SEGMENTS), size=n, p=SEGMENT_SHARES)
    median_yuan = SEGMENT_MEDIAN_LIMIT_YUAN[segment_index]
    approved_yuan = np.clip(median_yuan * rng.lognormal(0.0, 0.55, n), 500, 50_000)
    approved_fen = _round_to(approved_yuan, 100) * FEN_PER_YUAN

    # a share of the book already had its limit cut by earlier reviews: restoration candidates
    reduced = rng.random(n) < 0.03
    reduced |= np.isin(cohort, RESTORING_COHORTS)
    reduced_share = rng.uniform(0.3, 0.8, n)
    current_fen = np.where(reduced, _round_to(approved_fen * reduced_share, 100 * FEN_PER_YUAN), approved_fen)
    current_fen = np.maximum(current_fen, 50 * FEN_PER_YUAN)

    has_cap = rng.random(n) < 0.03
    customer_cap_fen = np.where(has_cap, _round_to(approved_fen * rng.uniform(0.4, 0.9, n), 100 * FEN_PER_YUAN), -1)
    current_fen = np.where(has_cap, np.minimum(current_fen, customer_cap_fen), current_fen)  # the cap holds

    utilisation = rng.beta(1.6, 4.0, n)
    utilisation = np.where(np.isin(cohort, ["overdue", "minimum_payment"]), rng.uniform(0.6, 1.0, n), utilisation)
    balance_fen = _round_to(current_fen * utilisation, 1)

    status = np.where(rng.random(n) < 0.02, "closed", np.where(rng.random(n) < 0.01, "frozen", "active"))
    status = np.where(cohort == "none", status, "active")  # cohorts are live accounts
    open_days = rng.integers(60, 365 * 8, n)
    open_date = pd.Timestamp(first_date) - pd.to_timedelta(open_days, unit="D")

    frame = pd.DataFrame({
        "account_id": account_id,
        "customer_id": account_id + 700_000_000,
        "open_date": open_date,
        "segment": SEGMENTS[segment_index],
        "preferred_language": np.where(rng.random(n) < 0.9, "zh-CN", "en"),
        "approved_limit_fen": approved_fen,
        "current_limit_fen": current_fen,
        "customer_cap_fen": pd.array(customer_cap_fen, dtype="Int64"),
        "outstanding_balance_fen": balance_fen,
        "status": status,
        "has_open_appeal": rng.random(n) < 0.005,
        "refused_automated_decisions": rng.random(n) < 0.003,
    })
    frame.loc[frame["customer_cap_fen"] < 0, "customer_cap_fen"] = pd.NA
    frame["limit_set_by_review_date"] = pd.NaT
    return frame


def _customer_profiles(rng: np.random.Generator, accounts: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Contact details and protected attributes, independent of every cohort (a fair book), with
    a few unknowns. Drawn from their own generator so the rest of the portfolio stays as it was."""
    n = len(accounts)
    young = (accounts["segment"].isin(["new_to_credit", "young_professional"])).to_numpy()
    age = np.where(young, rng.integers(19, 36, n), rng.integers(24, 70, n))
    sex = rng.choice(np.array(["female", "male"], dtype=object), n)
    sex[rng.random(n) < 0.02] = None
    education = rng.choice(np.array(["graduate_school", "university", "high_school", "other"], dtype=object), n,
                           p=[0.12, 0.46, 0.35, 0.07])
    marital = rng.choice(np.array(["married", "single", "other"], dtype=object), n, p=[0.52, 0.44, 0.04])
    mobile = 13_000_000_000 + rng.integers(0, 6_000_000_000, n)  # mainland mobile numbers, 1[3-8]x
    return pd.DataFrame({
        "customer_id": accounts["customer_id"].to_numpy(),
        "phone_number": "+86" + pd.Series(mobile).astype(str),
        "birth_year": pd.array(as_of.year - age, dtype="Int64"),
        "sex": sex,
        "education": education,
        "marital_status": marital,
    })


def _same_on_every_date(accounts: pd.DataFrame, dates: list[date], columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """One snapshot row per account per date, with the same values on every date."""
    return pd.concat([pd.DataFrame({"account_id": accounts["account_id"].to_numpy(),
                                    "snapshot_date": pd.Timestamp(snapshot_date), **columns})
                      for snapshot_date in dates], ignore_index=True)


def _score_snapshots(rng, accounts, cohort, dates) -> pd.DataFrame:
    n = len(accounts)
    base = np.clip(rng.normal(680, 80, n), 350, 950)
    base = np.where(np.isin(cohort, RESTORING_COHORTS), np.clip(base + 60, 350, 950), base)
    base = np.where(np.isin(cohort, ["overdue", "multi_borrowing"]), np.clip(base - 70, 350, 950), base)
    drop = rng.uniform(60, 160, n)
    frames = []
    for index, snapshot_date in enumerate(dates):
        score = base + rng.normal(0, 4, n)
        # the drop lands on the latest date only: yesterday's score is the comparison point
        if index == len(dates) - 1:
            score = np.where(cohort == "score_drop", score - drop, score)
        frames.append(pd.DataFrame({
            "account_id": accounts["account_id"].to_numpy(),
            "snapshot_date": pd.Timestamp(snapshot_date),
            "score": np.clip(np.round(score), 350, 950).astype(np.int64),
            "model_version": "sesame-like-2026.10",
        }))
    return pd.concat(frames, ignore_index=True)


def _repayment_snapshots(rng, accounts, cohort, dates) -> pd.DataFrame:
    n = len(accounts)
    balance = accounts["outstanding_balance_fen"].to_numpy()
    overdue = cohort == "overdue"
    minimum_habit = cohort == "minimum_payment"
    dpd = np.where(overdue, rng.choice([5, 15, 35, 65, 95, 130], n, p=[.3, .25, .2, .12, .08, .05]), 0)
    # a small background of one-off late payers outside the cohort
    dpd = np.where(~overdue & (rng.random(n) < 0.01), rng.integers(1, 10, n), dpd)
    overdue_3m = np.where(dpd > 0, np.minimum(3, 1 + dpd // 30), 0)
    overdue_6m = np.where(dpd > 0, overdue_3m + rng.integers(0, 2, n), rng.binomial(1, 0.03, n))
    overdue_12m = overdue_6m + rng.binomial(1, 0.05, n)
    min_months = np.where(minimum_habit, rng.integers(3, 13, n), rng.binomial(2, 0.1, n))
    # outside the restoring cohorts, few reduced accounts already have six clean cycles
    streak = np.where(np.isin(cohort, RESTORING_COHORTS), rng.integers(6, 25, n), rng.geometric(0.35, n) - 1)
    streak = np.where((dpd > 0) | minimum_habit, 0, streak)
    minimum_due = _round_to(balance * 0.10, 1)
    amount_paid = np.where(dpd > 0, 0, np.where(min_months > 0, minimum_due, balance))
    utilisation = np.round(balance / accounts["current_limit_fen"].to_numpy(), 4)
    return _same_on_every_date(accounts, dates, {
        "statement_balance_fen": balance,
        "minimum_due_fen": minimum_due,
        "amount_paid_fen": amount_paid,
        "days_past_due": dpd,
        "overdue_count_3m": overdue_3m,
        "overdue_count_6m": overdue_6m,
        "overdue_count_12m": overdue_12m,
        "min_payment_only_months": min_months,
        "on_time_full_payment_months": streak,
        "utilisation_ratio": utilisation,
    })


def _spending_snapshots(rng, accounts, cohort, dates) -> pd.DataFrame:
    n = len(accounts)
    limit = accounts["current_limit_fen"].to_numpy()
    baseline_count = rng.poisson(18, n) + 2
    baseline_amount = _round_to(limit * rng.uniform(0.1, 0.4, n), 100)
    count = np.round(baseline_count * rng.uniform(0.7, 1.3, n)).astype(np.int64)
    amount = _round_to(baseline_amount * rng.uniform(0.7, 1.3, n), 100)
    largest = _round_to(amount * rng.uniform(0.1, 0.35, n), 100)
    days_since = rng.integers(0, 4, n)

    burst = cohort == "spending_burst"
    count = np.where(burst, baseline_count * rng.integers(4, 9, n), count)
    amount = np.where(burst, baseline_amount * rng.integers(3, 6, n), amount)
    large = cohort == "large_transaction"
    largest = np.where(large, _round_to(limit * rng.uniform(0.8, 1.0, n), 100), largest)
    amount = np.maximum(amount, largest)
    stop = cohort == "sudden_stop"
    count = np.where(stop, 0, count)
    amount = np.where(stop, 0, amount)
    largest = np.where(stop, 0, largest)
    days_since = np.where(stop, rng.integers(30, 61, n), days_since)
    return _same_on_every_date(accounts, dates, {
        "txn_count_30d": count,
        "txn_amount_30d_fen": amount,
        "baseline_txn_count_30d": baseline_count,
        "baseline_txn_amount_30d_fen": baseline_amount,
        "largest_txn_30d_fen": largest,
        "days_since_last_txn": days_since,
    })


def _inquiry_snapshots(rng, accounts, cohort, dates) -> pd.DataFrame:
    n = len(accounts)
    many = cohort == "multi_borrowing"
    reduced = cohort == "reduced_borrowing"
    inquiries_30d = np.where(many, rng.integers(6, 16, n), rng.poisson(0.4, n))
    inquiries_90d = inquiries_30d + np.where(many, rng.integers(5, 15, n), rng.poisson(0.6, n))
    inquiries_30d = np.where(reduced, 0, inquiries_30d)
    inquiries_90d = np.where(reduced, 0, inquiries_90d)
    debt_before = _round_to(rng.lognormal(9.5, 1.2, n) * FEN_PER_YUAN, 100) * (rng.random(n) < 0.6)
    debt_now = np.where(reduced, _round_to(debt_before * rng.uniform(0.2, 0.6, n), 100),
                        _round_to(debt_before * rng.uniform(0.9, 1.2, n), 100))
    debt_before = np.where(reduced, np.maximum(debt_before, 2_000_000), debt_before)
    return _same_on_every_date(accounts, dates, {
        "inquiries_30d": inquiries_30d,
        "inquiries_90d": inquiries_90d,
        "external_debt_fen": debt_now,
        "external_debt_90d_ago_fen": debt_before,
    })


def _security_events(rng, accounts, cohort, dates) -> pd.DataFrame:
    ids = accounts["account_id"].to_numpy()
    last = pd.Timestamp(dates[-1])
    takeover = ids[cohort == "account_takeover"]
    credential = ids[cohort == "credential_change"]
    benign = ids[rng.random(len(ids)) < 0.02]  # a new phone alone is no reason to cut a limit
    frames = [
        pd.DataFrame({"account_id": takeover, "event_date": last, "event_type": "account_takeover_suspected"}),
        pd.DataFrame({"account_id": credential, "event_date": last, "event_type": "sim_change"}),
        pd.DataFrame({"account_id": credential, "event_date": last, "event_type": "password_reset"}),
        pd.DataFrame({"account_id": benign, "event_date": last - pd.Timedelta(days=20), "event_type": "device_change"}),
    ]
    events = pd.concat(frames, ignore_index=True).sort_values(["account_id", "event_type"], ignore_index=True)
    events.insert(0, "event_id", np.arange(1, len(events) + 1, dtype=np.int64))
    return events


def _income_verifications(rng, accounts, cohort, dates) -> pd.DataFrame:
    chosen = cohort == "verified_income"
    ids = accounts["account_id"].to_numpy()[chosen]
    limit = accounts["approved_limit_fen"].to_numpy()[chosen]
    return pd.DataFrame({
        "account_id": ids,
        "verified_date": pd.Timestamp(dates[-1]) - pd.to_timedelta(rng.integers(1, 120, len(ids)), unit="D"),
        "monthly_income_fen": _round_to(limit * rng.uniform(0.8, 3.0, len(ids)), 100),
    })


def _break_rows(rng, portfolio: Portfolio, rate: float) -> None:
    """Damage a few snapshot rows the way upstream feeds do: out-of-range, negative, missing."""
    scores = portfolio.credit_score_snapshots
    broken = rng.random(len(scores)) < rate
    scores["score"] = scores["score"].astype("Int64")
    scores.loc[broken, "score"] = np.where(rng.random(int(broken.sum())) < 0.5, 0, 9999)
    missing = rng.random(len(scores)) < rate / 2
    scores.loc[missing, "score"] = pd.NA
    repayments = portfolio.repayment_snapshots
    negative = rng.random(len(repayments)) < rate
    repayments.loc[negative, "amount_paid_fen"] = -repayments.loc[negative, "minimum_due_fen"] - 100


def generate(accounts: int, seed: int = 7, end_date: date = date(2026, 11, 27), days: int = 2,
             bad_row_rate: float = 0.0002, first_account_id: int = FIRST_ACCOUNT_ID) -> Portfolio:
    """A portfolio of ``accounts`` accounts with ``days`` consecutive snapshot dates ending at
    ``end_date``; the same arguments give the same portfolio. A very large book is made in
    parts, each with its own seed and ``first_account_id``, and appended part by part."""
    if accounts < 1 or days < 1:
        raise ValueError("generate needs at least one account and one snapshot date")
    rng = np.random.default_rng(seed)
    dates = [end_date - timedelta(days=days - 1 - k) for k in range(days)]
    cohort = _assign_cohorts(rng, accounts)
    account_frame = _make_accounts(rng, accounts, cohort, dates[0], first_account_id)
    portfolio = Portfolio(
        accounts=account_frame,
        credit_score_snapshots=_score_snapshots(rng, account_frame, cohort, dates),
        repayment_snapshots=_repayment_snapshots(rng, account_frame, cohort, dates),
        spending_snapshots=_spending_snapshots(rng, account_frame, cohort, dates),
        credit_inquiry_snapshots=_inquiry_snapshots(rng, account_frame, cohort, dates),
        security_events=_security_events(rng, account_frame, cohort, dates),
        income_verifications=_income_verifications(rng, account_frame, cohort, dates),
        customer_profiles=_customer_profiles(np.random.default_rng([seed, 1]), account_frame, dates[-1]),
    )
    _break_rows(rng, portfolio, bad_row_rate)
    return portfolio


def cohorts(accounts: int, seed: int = 7) -> pd.Series:
    """The cohort of each account of ``generate(accounts, seed)``, for tests and demos."""
    rng = np.random.default_rng(seed)
    ids = np.arange(FIRST_ACCOUNT_ID, FIRST_ACCOUNT_ID + accounts, dtype=np.int64)
    return pd.Series(_assign_cohorts(rng, accounts), index=pd.Index(ids, name="account_id"), name="cohort")


def load(conn: Connection, portfolio: Portfolio) -> dict[str, int]:
    """Rebuild the warehouse (today's schema, no rows) and load ``portfolio``, inside the
    caller's transaction."""
    db.rebuild(conn)
    return {name: db.bulk_insert(conn, name, frame) for name, frame in portfolio.tables().items()}
