"""reassess_accounts: features, policy and guardrails over every staged account at once, into one
decision per account and policy arm in ``staged_decisions``, each with its trace (the rules that
fired with the values they compared, and the guardrails that acted) in ``staged_traces``.

Champion / challenger: a policy may name a challenger and a share of accounts. Accounts are
assigned by a stable hash of the experiment name and the account id, the same in every run and
backfill. In ``live`` mode the challenger decides for its share; in ``shadow`` mode it is computed
for every account and applied to none.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from post_loan_review import db, shard_counts
from post_loan_review.features import build_features
from post_loan_review.guardrails import GuardrailEvent, apply_guardrails
from post_loan_review.policy import MAX_REASONS, Evaluation, Policy, evaluate, load_policy
from post_loan_review.runs import ReviewRun
from post_loan_review.shards import WHOLE_BOOK, Shard

CHAMPION, CHALLENGER = "champion", "challenger"
BUCKETS = 10_000  # assignment granularity: 0.01 % of accounts
# values kept with each decision so it can be explained without recomputing it
EVIDENCE_COLUMNS = [
    "score", "score_drop", "days_past_due", "min_payment_only_months", "spend_ratio",
    "largest_txn_ratio", "days_since_last_txn", "security_events", "inquiries_30d",
    "on_time_full_payment_months", "verified_monthly_income_fen",
]
TRACE_COLUMNS = ["account_id", "arm", "step", "kind", "code", "feature", "operator", "threshold",
                 "observed_value", "held", "detail"]


def stable_bucket(account_ids: np.ndarray, experiment: str) -> np.ndarray:
    """A bucket 0..9999 per account from a SplitMix64 hash of the id salted by the experiment:
    stable across runs, machines and backfills, and independent between experiments."""
    salt = np.uint64(int.from_bytes(hashlib.sha256(experiment.encode("utf-8")).digest()[:8], "little"))
    with np.errstate(over="ignore"):
        z = np.asarray(account_ids, dtype=np.int64).astype(np.uint64) ^ salt
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z % np.uint64(BUCKETS)).astype(np.int64)


def in_challenger_share(account_ids: np.ndarray, policy: Policy) -> np.ndarray:
    if policy.challenger is None:
        return np.zeros(len(account_ids), dtype=bool)
    return stable_bucket(account_ids, policy.challenger.experiment) < round(policy.challenger.share_pct * BUCKETS / 100)


def _number_text(values: np.ndarray) -> pd.Series:
    return pd.Series(np.round(values, 2)).astype(str).str.replace(r"\.0$", "", regex=True)


def _traces(evaluation: Evaluation, events: list[GuardrailEvent], policy: Policy,
            account_ids: np.ndarray) -> pd.DataFrame:
    """Long-format traces: one row per check of each fired rule, one per guardrail event."""
    pieces = []
    for index, rule in enumerate(policy.rules):
        fired = evaluation.fired[:, index]
        if not fired.any():
            continue
        for check_index, check in enumerate(rule.condition.checks):
            observed = evaluation.values[check.feature][fired]
            held = check.evaluate(observed)
            shown = _number_text(observed).where(~np.isnan(observed), "missing")
            pieces.append(pd.DataFrame({
                "account_id": account_ids[fired], "step": index * 10 + check_index, "kind": "rule",
                "code": rule.code, "feature": check.feature, "operator": check.op,
                "threshold": check.threshold, "observed_value": observed, "held": held,
                "detail": (check.feature + " = " + shown + f" {check.op} {check.threshold:g}").to_numpy(),
            }))
    for index, event in enumerate(events):
        if not event.mask.any():
            continue
        pieces.append(pd.DataFrame({
            "account_id": account_ids[event.mask], "step": 10_000 + index, "kind": "guardrail",
            "code": event.name, "feature": None, "operator": None, "threshold": np.nan,
            "observed_value": np.nan, "held": True, "detail": event.detail,
        }))
    if not pieces:
        return pd.DataFrame(columns=[c for c in TRACE_COLUMNS if c != "arm"])
    return pd.concat(pieces, ignore_index=True)


@dataclass(frozen=True)
class Decided:
    decisions: pd.DataFrame
    traces: pd.DataFrame


def _decide_arm(features: pd.DataFrame, policy: Policy, arm: str, applies: np.ndarray,
                quarantined_accounts) -> Decided:
    evaluation = evaluate(policy, features)
    decisions, events = apply_guardrails(evaluation, features, policy, quarantined_accounts)
    decisions.insert(1, "policy_version", policy.version)
    decisions.insert(2, "arm", arm)
    decisions.insert(3, "applies", applies)
    for k in range(1, MAX_REASONS + 1):
        decisions[f"reason_{k}"] = evaluation.proposal[f"reason_{k}"].array
    # .array keeps nullable integers integers (to_numpy would turn a column with gaps into floats)
    for column in EVIDENCE_COLUMNS:
        decisions[column] = features[column].array
    decisions["preferred_language"] = features["preferred_language"].array
    traces = _traces(evaluation, events, policy, features["account_id"].to_numpy())
    traces.insert(1, "arm", arm)
    return Decided(decisions, traces)


def decide(inputs: pd.DataFrame, run: ReviewRun, policy: Policy, quarantined_accounts) -> Decided:
    """Every arm's decision and trace for each row of ``inputs`` (pure: no database)."""
    features = build_features(inputs, run.review_date)
    share = in_challenger_share(features["account_id"].to_numpy(), policy)
    live_challenger = policy.challenger is not None and policy.challenger.mode == "live"
    arms = [_decide_arm(features, policy, CHAMPION, ~share if live_challenger else np.ones(len(features), bool),
                        quarantined_accounts)]
    if policy.challenger is not None:
        challenger = load_policy(policy.challenger.policy)
        subset = features[share].reset_index(drop=True) if live_challenger else features
        arms.append(_decide_arm(subset, challenger, CHALLENGER, np.full(len(subset), live_challenger),
                                quarantined_accounts))
    decided = Decided(pd.concat([a.decisions for a in arms], ignore_index=True),
                      pd.concat([a.traces for a in arms], ignore_index=True))
    for frame in (decided.decisions, decided.traces):
        frame.insert(0, "review_date", pd.Timestamp(run.review_date))
        frame.insert(1, "run_mode", run.run_mode)
    return decided


def reassess_accounts(conn: Connection, run: ReviewRun, policy: Policy, shard: Shard = WHOLE_BOOK) -> dict[str, int]:
    """Decide every staged account of one shard of the run; replace the shard's staged decisions,
    traces and counts (``shard_counts``). Only the shard's rows are in memory."""
    params = {"review_date": run.review_date, "run_mode": run.run_mode, **shard.params()}
    inputs = db.read_frame(conn, "review/review_inputs", params,
                           date_columns=("last_decrease_date", "last_increase_date"))
    quarantined = db.read_frame(conn, "review/quarantined_accounts", params)["account_id"].to_numpy()
    decided = decide(inputs, run, policy, quarantined)
    db.execute(conn, "review/clear_staged_decisions", params)
    db.execute(conn, "review/clear_staged_traces", params)
    db.bulk_insert(conn, "staged_decisions", decided.decisions)
    db.bulk_insert(conn, "staged_traces", decided.traces)
    shard_counts.record(conn, run, shard, decided.decisions)
    applied = decided.decisions[decided.decisions["applies"]]
    counts = applied["action"].value_counts()
    return {"shard": shard.label, "accounts_reviewed": len(applied), "traces": len(decided.traces),
            **{str(a): int(n) for a, n in counts.items()}}
