"""Tune the score threshold of a backtest policy on in-window outcomes only (docs/backtest.md).

For each candidate threshold, a copy of the policy with ``score < T`` in its score rules replays
the UCI months through the real pipeline (its own throwaway warehouse), and the April-July
decisions are scored by 60+ days past due in a later month up to September. The October default
is never read: the outcome file is not passed to the scoring.

    .venv/bin/python scripts/tune_backtest_policy.py --policy v3 --thresholds 460 480 500 [--sample N]
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

from post_loan_review import backtest, policy, uci
from post_loan_review.config import POLICY_DIR


def candidate(policy_version: str, threshold: int, folder: Path) -> str:
    text = (POLICY_DIR / f"{policy_version}.yaml").read_text(encoding="utf-8")
    text = re.sub(r"score < \d+", f"score < {threshold}", text)
    (folder / f"{policy_version}.yaml").write_text(text, encoding="utf-8")
    return policy_version


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", default=backtest.DEFAULT_POLICY)
    parser.add_argument("--thresholds", type=int, nargs="+", required=True)
    parser.add_argument("--sample", type=int, default=None, help="the first N accounts (default: all)")
    parser.add_argument("--window", type=int, default=4, help="decision months scored (default 4: April-July)")
    args = parser.parse_args()
    raw = uci.read_uci(nrows=args.sample).drop(columns=[uci.DEFAULT_COLUMN])  # never read while tuning
    print("threshold  month       bad cut  good cut  bad lowered  good lowered  AUC")
    for threshold in args.thresholds:
        with tempfile.TemporaryDirectory() as folder:
            policy.POLICY_DIR = Path(folder)  # the candidate is read from here, the policy dir is untouched
            policy.load_policy.cache_clear()
            version = candidate(args.policy, threshold, Path(folder))
            url = f"sqlite:///{folder}/warehouse.db"
            backtest.replay_uci(raw, version, url)
            results = backtest.read_results(url)
        summary = backtest.score(results["decisions"], results["delinquent"], None, tuning_months=args.window)
        for month in summary["tuning_window"]:
            m = summary["per_month"][month]
            print(f"{threshold:9d}  {month}  {m['bad_cut_share']:7.1%}  {m['good_cut_share']:8.1%}  "
                  f"{m['bad_lowered_share']:11.1%}  {m['good_lowered_share']:12.1%}  {m['auc_score']:.4f}")


if __name__ == "__main__":
    main()
