"""Tune a backtest policy on in-window outcomes only (docs/backtest.md).

For each candidate, a copy of the policy (its ``score < T`` thresholds replaced, and optionally its
restoration settings) replays the UCI months through the real pipeline in its own throwaway
warehouse, and the April-July decisions are scored by 60+ days past due in a later month up to
September, on all accounts and on the held-out validation fold (``uci.validation_fold`` = 0, the
accounts the score was not fitted on when it is refitted with ``--refit-on-training-fold``). The
October default is dropped from the data before anything else and the outcome file is never passed
to the scoring.

    .venv/bin/python scripts/tune_backtest_policy.py --policy v4 --thresholds 440 460 [--restore] [--drop CODE ...]
        [--sample N]
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

import yaml

from post_loan_review import backtest, policy, uci
from post_loan_review.config import POLICY_DIR

# --restore: restoration when behaviour recovers, for a six-month window (docs/backtest.md)
FAST_RESTORATION = (
    (r"increase_after_decrease: \d+", "increase_after_decrease: 30"),
    (r"min_on_time_full_payment_months: \d+", "min_on_time_full_payment_months: 1"),
    (r"restore_step_pct: \d+", "restore_step_pct: 50"),
    (r"on_time_full_payment_months >= \d+", "on_time_full_payment_months >= 1"),
)


def candidate(policy_version: str, threshold: int, folder: Path, restore: bool = False,
              drop: tuple[str, ...] = ()) -> str:
    text = (POLICY_DIR / f"{policy_version}.yaml").read_text(encoding="utf-8")
    text = re.sub(r"score < \d+", f"score < {threshold}", text)
    for pattern, replacement in FAST_RESTORATION if restore else ():
        text = re.sub(pattern, replacement, text)
    if drop:
        raw = yaml.safe_load(text)
        raw["lowering_rules"] = [rule for rule in raw["lowering_rules"] if rule["code"] not in drop]
        text = yaml.safe_dump(raw, allow_unicode=True, sort_keys=False)
    (folder / f"{policy_version}.yaml").write_text(text, encoding="utf-8")
    return policy_version


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", default=backtest.DEFAULT_POLICY)
    parser.add_argument("--thresholds", type=int, nargs="+", required=True)
    parser.add_argument("--restore", action="store_true", help="also try restoration after one month in full")
    parser.add_argument("--drop", nargs="*", default=[], help="lowering rule codes to leave out")
    parser.add_argument("--sample", type=int, default=None, help="the first N accounts (default: all)")
    parser.add_argument("--window", type=int, default=4, help="decision months scored (default 4: April-July)")
    args = parser.parse_args()
    raw = uci.read_uci(nrows=args.sample).drop(columns=[uci.DEFAULT_COLUMN])  # never read while tuning
    validation = set(raw.loc[uci.validation_fold(raw["ID"].to_numpy()) == 0, "ID"].tolist())
    print(f"dropped rules: {', '.join(args.drop) or 'none'}")
    print("threshold  restore  accounts    month       bad cut  good cut  bad lowered  good lowered  AUC")
    for threshold in args.thresholds:
        for restore in ((False, True) if args.restore else (False,)):
            with tempfile.TemporaryDirectory() as folder:
                policy.POLICY_DIR = Path(folder)  # the candidate is read from here, the policy dir is untouched
                policy.load_policy.cache_clear()
                version = candidate(args.policy, threshold, Path(folder), restore, tuple(args.drop))
                url = f"sqlite:///{folder}/warehouse.db"
                backtest.replay_uci(raw, version, url)
                results = backtest.read_results(url)
            decisions = results["decisions"]
            for accounts, frame in (("all", decisions), ("validation", decisions[decisions["account_id"].isin(validation)])):
                summary = backtest.score(frame, results["delinquent"], None, tuning_months=args.window)
                for month in summary["tuning_window"]:
                    m = summary["per_month"][month]
                    print(f"{threshold:9d}  {str(restore):7s}  {accounts:10s}  {month}  {m['bad_cut_share']:7.1%}  "
                          f"{m['good_cut_share']:8.1%}  {m['bad_lowered_share']:11.1%}  {m['good_lowered_share']:12.1%}  "
                          f"{m['auc_score']:.4f}", flush=True)


if __name__ == "__main__":
    main()
