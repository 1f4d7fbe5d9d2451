"""Benchmark: wall time and peak memory of the reassessment alone -- features, policy, guardrails
and traces (``reassess.decide``) -- for a portfolio of ACCOUNTS accounts (default 1,000,000),
without any database I/O. The review_inputs frame is built in pandas from
``sample_data.generate(ACCOUNTS)``, mirroring ``sql/review/extract_review_inputs.sql`` on a
warehouse without ledger history; the quarantined accounts mirror the quality gate's row rules.

    .venv/bin/python bench/bench_reassess.py [ACCOUNTS] [--repeat N] [--policy V] [--profile]

The timed part runs pinned to one core (``os.sched_setaffinity(0, {0})``, and OMP / OpenBLAS / MKL
and Arrow thread pools at one thread, set before numpy is imported). It prints each repetition of
``decide`` and the best; then the split (build_features, evaluate, apply_guardrails, _traces, and
what decide adds around them), best of the repetitions; then the peak memory of one ``decide``:
the tracemalloc peak (Python and numpy allocations; a separate, untimed run since tracing slows it)
and the peak RSS (ru_maxrss, reset after the inputs are built where /proc/self/clear_refs allows).
``--profile`` adds a cProfile of one ``decide``, sorted by cumulative time.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import contextlib  # noqa: E402
import cProfile  # noqa: E402
import gc  # noqa: E402
import io  # noqa: E402
import pstats  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from datetime import date, timedelta  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow  # noqa: E402

from post_loan_review import features as features_module  # noqa: E402
from post_loan_review import guardrails, policy as policy_module, reassess, sample_data  # noqa: E402
from post_loan_review.policy import Policy, load_policy  # noqa: E402
from post_loan_review.runs import ReviewRun  # noqa: E402

REVIEW_DATE = date(2026, 11, 27)
MIB = 1024 * 1024

# review_inputs column types (sql/schema/09_review_inputs.sql) as read_frame reads them
# (dtype_backend="numpy_nullable"): integers Int64, doubles Float64, booleans boolean
INTEGER_COLUMNS = [
    "account_id", "approved_limit_fen", "old_limit_fen", "customer_cap_fen", "outstanding_balance_fen",
    "score", "previous_score", "statement_balance_fen", "minimum_due_fen", "amount_paid_fen", "days_past_due",
    "overdue_count_3m", "overdue_count_6m", "overdue_count_12m", "min_payment_only_months",
    "on_time_full_payment_months", "txn_count_30d", "txn_amount_30d_fen", "baseline_txn_count_30d",
    "baseline_txn_amount_30d_fen", "largest_txn_30d_fen", "days_since_last_txn", "takeover_suspected_events",
    "device_change_events", "sim_change_events", "password_reset_events", "inquiries_30d", "inquiries_90d",
    "external_debt_fen", "external_debt_90d_ago_fen", "verified_monthly_income_fen",
]
FLOAT_COLUMNS = ["baseline_score_90d", "utilisation_ratio"]
BOOLEAN_COLUMNS = ["has_open_appeal", "refused_automated_decisions"]
COLUMNS = [  # the order of the insert in extract_review_inputs.sql
    "review_date", "run_mode", "account_id", "segment", "preferred_language", "status", "has_open_appeal",
    "refused_automated_decisions", "approved_limit_fen", "old_limit_fen", "customer_cap_fen",
    "outstanding_balance_fen", "last_decrease_date", "last_increase_date", "score", "previous_score",
    "baseline_score_90d", "statement_balance_fen", "minimum_due_fen", "amount_paid_fen", "days_past_due",
    "overdue_count_3m", "overdue_count_6m", "overdue_count_12m", "min_payment_only_months",
    "on_time_full_payment_months", "utilisation_ratio", "txn_count_30d", "txn_amount_30d_fen",
    "baseline_txn_count_30d", "baseline_txn_amount_30d_fen", "largest_txn_30d_fen", "days_since_last_txn",
    "takeover_suspected_events", "device_change_events", "sim_change_events", "password_reset_events",
    "inquiries_30d", "inquiries_90d", "external_debt_fen", "external_debt_90d_ago_fen",
    "verified_monthly_income_fen",
]
SECURITY_COUNTS = {
    "account_takeover_suspected": "takeover_suspected_events", "device_change": "device_change_events",
    "sim_change": "sim_change_events", "password_reset": "password_reset_events",
}


def review_inputs(portfolio: sample_data.Portfolio, review_date: date, policy: Policy) -> pd.DataFrame:
    """review_inputs of ``review_date`` as extract_review_inputs.sql stages them (empty ledger: the
    limit and status in force are the account's own, no past decrease or increase)."""
    review = pd.Timestamp(review_date)
    accounts = portfolio.accounts
    accounts = accounts[accounts["status"] != "closed"]  # where a.status_as_of <> 'closed'
    frame = pd.DataFrame({
        "review_date": review_date.isoformat(), "run_mode": "live",
        "account_id": accounts["account_id"].to_numpy(),
        "segment": accounts["segment"].to_numpy(), "preferred_language": accounts["preferred_language"].to_numpy(),
        "status": accounts["status"].to_numpy(),
        "has_open_appeal": accounts["has_open_appeal"].to_numpy(),
        "refused_automated_decisions": accounts["refused_automated_decisions"].to_numpy(),
        "approved_limit_fen": accounts["approved_limit_fen"].to_numpy(),
        "old_limit_fen": accounts["current_limit_fen"].to_numpy(),  # coalesce(ledger, current_limit_fen)
        "customer_cap_fen": accounts["customer_cap_fen"].array,
        "outstanding_balance_fen": accounts["outstanding_balance_fen"].to_numpy(),
        "last_decrease_date": pd.Series(pd.NaT, index=range(len(accounts)), dtype="datetime64[s]"),
        "last_increase_date": pd.Series(pd.NaT, index=range(len(accounts)), dtype="datetime64[s]"),
    })

    scores = portfolio.credit_score_snapshots
    previous_date = scores.loc[scores["snapshot_date"] < review, "snapshot_date"].max()  # latest_snapshot_date_before
    today = scores.loc[scores["snapshot_date"] == review, ["account_id", "score"]]
    previous = scores.loc[scores["snapshot_date"] == previous_date, ["account_id", "score"]]
    in_baseline = ((scores["snapshot_date"] >= review - timedelta(days=policy.score_baseline_days))
                   & (scores["snapshot_date"] < review) & scores["score"].between(350, 950).fillna(False))
    baseline = (scores[in_baseline].groupby("account_id", as_index=False)["score"].mean()
                .rename(columns={"score": "baseline_score_90d"}))
    frame = (frame.merge(today, on="account_id", how="left")
             .merge(previous.rename(columns={"score": "previous_score"}), on="account_id", how="left")
             .merge(baseline, on="account_id", how="left"))

    for table in ("repayment_snapshots", "spending_snapshots", "credit_inquiry_snapshots"):
        snapshots = getattr(portfolio, table)
        latest = snapshots[snapshots["snapshot_date"] == review].drop(columns="snapshot_date")
        frame = frame.merge(latest, on="account_id", how="left")

    events = portfolio.security_events
    window = events[(events["event_date"] > review - timedelta(days=policy.security_window_days))
                    & (events["event_date"] <= review)]
    counts = (pd.crosstab(window["account_id"], window["event_type"])
              .reindex(columns=list(SECURITY_COUNTS), fill_value=0).rename(columns=SECURITY_COUNTS))
    frame = frame.merge(counts, left_on="account_id", right_index=True, how="left")
    frame[list(SECURITY_COUNTS.values())] = frame[list(SECURITY_COUNTS.values())].fillna(0)  # coalesce(.., 0)

    income = portfolio.income_verifications
    recent = income[(income["verified_date"] > review - timedelta(days=policy.income_window_days))
                    & (income["verified_date"] <= review)]
    verified = (recent.groupby("account_id", as_index=False)["monthly_income_fen"].max()
                .rename(columns={"monthly_income_fen": "verified_monthly_income_fen"}))
    frame = frame.merge(verified, on="account_id", how="left")

    frame = frame[COLUMNS]
    for column in INTEGER_COLUMNS:
        frame[column] = frame[column].astype("Int64")
    for column in FLOAT_COLUMNS:
        frame[column] = frame[column].astype("Float64")
    for column in BOOLEAN_COLUMNS:
        frame[column] = frame[column].astype("boolean")
    return frame.sort_values("account_id", ignore_index=True)  # review_inputs.sql: order by account_id


def quarantined_accounts(portfolio: sample_data.Portfolio, review_date: date) -> np.ndarray:
    """Accounts with a review-date snapshot row that breaks a row rule of the quality gate."""
    review = pd.Timestamp(review_date)
    scores = portfolio.credit_score_snapshots
    scores = scores[scores["snapshot_date"] == review]
    bad_scores = scores["score"].isna() | ~scores["score"].between(350, 950).fillna(False)
    repayments = portfolio.repayment_snapshots
    repayments = repayments[repayments["snapshot_date"] == review]
    non_negative = ["days_past_due", "statement_balance_fen", "minimum_due_fen", "amount_paid_fen",
                    "overdue_count_3m", "min_payment_only_months", "on_time_full_payment_months"]
    bad_repayments = (repayments[non_negative] < 0).any(axis=1) | ~repayments["utilisation_ratio"].between(0, 5)
    return np.union1d(scores.loc[bad_scores, "account_id"], repayments.loc[bad_repayments, "account_id"])


@contextlib.contextmanager
def one_core():
    """Run the block on CPU 0 only; the previous affinity is restored afterwards."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {0})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark of this process (Linux: clear_refs 5), where allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def split_once(inputs: pd.DataFrame, run: ReviewRun, policy: Policy, quarantined: np.ndarray) -> dict[str, float]:
    """The internal steps of decide, each timed, fed one into the next."""
    seconds = {}
    started = time.perf_counter()
    features = features_module.build_features(inputs, run.review_date)
    seconds["features (build_features)"] = time.perf_counter() - started
    started = time.perf_counter()
    evaluation = policy_module.evaluate(policy, features)
    seconds["evaluate (policy.evaluate)"] = time.perf_counter() - started
    started = time.perf_counter()
    _, events = guardrails.apply_guardrails(evaluation, features, policy, quarantined)
    seconds["guardrails (apply_guardrails)"] = time.perf_counter() - started
    started = time.perf_counter()
    reassess._traces(evaluation, events, policy, features["account_id"].to_numpy())
    seconds["traces (reassess._traces)"] = time.perf_counter() - started
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("accounts", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="timed repetitions (default 3)")
    parser.add_argument("--policy", default="v1")
    parser.add_argument("--profile", action="store_true", help="also cProfile one decide, by cumulative time")
    args = parser.parse_args()
    pyarrow.set_cpu_count(1)
    pyarrow.set_io_thread_count(1)
    policy = load_policy(args.policy)
    run = ReviewRun(REVIEW_DATE, "live", policy.version)

    started = time.perf_counter()
    portfolio = sample_data.generate(args.accounts, end_date=REVIEW_DATE)
    inputs = review_inputs(portfolio, REVIEW_DATE, policy)
    quarantined = quarantined_accounts(portfolio, REVIEW_DATE)
    del portfolio
    gc.collect()
    print(f"inputs: {len(inputs):,} reviewable accounts of {args.accounts:,} ({len(quarantined):,} quarantined), "
          f"built in {time.perf_counter() - started:.1f} s (not timed below); policy {policy.version}; "
          f"one core (CPU 0), numpy {np.__version__}, pandas {pd.__version__}")
    rss_reset = reset_peak_rss()
    rss_before = peak_rss_mib()

    best = float("inf")
    with one_core():
        for repetition in range(1, args.repeat + 1):
            gc.collect()
            started = time.perf_counter()
            decided = reassess.decide(inputs, run, policy, quarantined)
            elapsed = time.perf_counter() - started
            best = min(best, elapsed)
            print(f"decide run {repetition}: {elapsed:7.2f} s   "
                  f"({len(decided.decisions):,} decisions, {len(decided.traces):,} trace rows)", flush=True)
            del decided
        print(f"decide best of {args.repeat}: {best:7.2f} s")

        splits = []
        for _ in range(max(args.repeat, 3)):  # a single split run is too noisy to compare with the best
            gc.collect()
            splits.append(split_once(inputs, run, policy, quarantined))
        print(f"split (best of {len(splits)} for each step):")
        parts = {name: min(s[name] for s in splits) for name in splits[0]}
        for name, seconds in parts.items():
            print(f"  {name:<32} {seconds:7.2f} s  {seconds / best:6.1%}")
        other = best - sum(parts.values())
        print(f"  {'decide around them (arms, concat)':<32} {other:7.2f} s  {other / best:6.1%}")

        gc.collect()
        tracemalloc.start()
        decided = reassess.decide(inputs, run, policy, quarantined)
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del decided
    input_mib = inputs.memory_usage(deep=True).sum() / MIB
    print(f"memory: tracemalloc peak of one decide {traced_peak / MIB:,.0f} MiB (inputs frame {input_mib:,.0f} MiB); "
          f"peak RSS (ru_maxrss) {peak_rss_mib():,.0f} MiB"
          + (f", {rss_before:,.0f} MiB when the timed part started (peak reset)" if rss_reset
             else " (whole process, incl. building the inputs: peak reset not allowed)"))

    if args.profile:
        gc.collect()
        profiler = cProfile.Profile()
        with one_core():
            profiler.runcall(reassess.decide, inputs, run, policy, quarantined)
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
        print(out.getvalue())


if __name__ == "__main__":
    main()
