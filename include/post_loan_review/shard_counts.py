"""The figures check_portfolio and the report take from a run's decisions, counted by each
reassessment shard while its decisions are still in memory: decisions per arm, policy, action and
guardrail with the exposure they carry (``shard_decision_counts``), reason codes with the exposure
they moved (``shard_reason_counts``), and the shard's ten largest cuts (``shard_largest_changes``).
``sql/report/`` adds the shards of the run's split up. The breaker and the report then read a few
hundred rows instead of scanning every staged decision again (what that saves, and where it does
not: docs/performance.md).

A shard replaces its rows each time it decides (keyed by shard count and shard, as the quality
results of a shard are), in the transaction that replaces its staged decisions, so the counts are
always those of the decisions staged."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from post_loan_review import db
from post_loan_review.policy import MAX_REASONS
from post_loan_review.runs import ReviewRun
from post_loan_review.shards import Shard

LARGEST_CHANGES = 10  # the report shows the ten largest cuts of the run; each shard keeps its own ten
DECISION_GROUP = ["arm", "policy_version", "applies", "action", "guardrail"]
LARGEST_CHANGE_COLUMNS = ["account_id", "action", "old_limit_fen", "new_limit_fen", "old_status", "new_status",
                          "reason_1", "reason_2", "guardrail", "exposure_removed_fen"]


def _fen(column: pd.Series) -> np.ndarray:
    return column.to_numpy(dtype="int64")


def _is_active(status: pd.Series) -> np.ndarray:
    return (status == "active").to_numpy(dtype=bool)  # compared as strings, never as Python objects


def measured(decisions: pd.DataFrame) -> pd.DataFrame:
    """``decisions`` with what each one changed: ``is_change`` (the limit or the status moved),
    the drawable limit (of an active account, else nothing) before and after, and the limit's
    move, in fen."""
    old_limit, new_limit = _fen(decisions["old_limit_fen"]), _fen(decisions["new_limit_fen"])
    return decisions.assign(
        is_change=(old_limit != new_limit) | (decisions["old_status"] != decisions["new_status"]).to_numpy(dtype=bool),
        exposure_before_fen=np.where(_is_active(decisions["old_status"]), old_limit, 0),
        exposure_after_fen=np.where(_is_active(decisions["new_status"]), new_limit, 0),
        limit_change_fen=new_limit - old_limit)


def decision_counts(measured_decisions: pd.DataFrame) -> pd.DataFrame:
    """Decisions (``measured``) per arm, policy version, applies, action and guardrail (null: none
    acted), with the accounts that changed and the exposure before and after, in fen."""
    grouped = measured_decisions.assign(accounts=1).groupby(DECISION_GROUP, dropna=False, sort=True)
    counts = grouped[["accounts", "is_change", "exposure_before_fen", "exposure_after_fen", "limit_change_fen"]].sum()
    return counts.rename(columns={"is_change": "changes"}).astype("int64").reset_index()


def _deciding(measured_decisions: pd.DataFrame) -> pd.DataFrame:
    return measured_decisions[measured_decisions["applies"].to_numpy(dtype=bool)]


def reason_counts(measured_decisions: pd.DataFrame) -> pd.DataFrame:
    """Per reason code of the deciding arm's decisions (``measured``): the accounts it was given
    to (a code appears once per decision at most) and the exposure those decisions moved, in fen."""
    deciding = _deciding(measured_decisions)
    deciding = deciding.assign(moved=deciding["exposure_after_fen"] - deciding["exposure_before_fen"])
    # one group-by per reason slot (each drops the decisions without a code there), then added up
    slots = [deciding.groupby(f"reason_{k}", sort=False)["moved"].agg(["size", "sum"]).rename_axis("code")
             for k in range(1, MAX_REASONS + 1)]
    counted = pd.concat(slots).groupby(level="code", sort=True).sum()
    return pd.DataFrame({"code": counted.index.to_numpy(dtype=object), "accounts": counted["size"].to_numpy(dtype="int64"),
                         "exposure_change_fen": counted["sum"].to_numpy(dtype="int64")})


def largest_changes(measured_decisions: pd.DataFrame) -> pd.DataFrame:
    """The deciding arm's changes (``measured``) that removed the most drawable exposure,
    restorations last, then by account: the first LARGEST_CHANGES, which hold the run's ten
    wherever they are in the shards."""
    changed = _deciding(measured_decisions)
    changed = changed[changed["is_change"].to_numpy(dtype=bool)]
    changed = changed.assign(exposure_removed_fen=changed["exposure_before_fen"] - changed["exposure_after_fen"])
    ranked = changed.sort_values(["exposure_removed_fen", "account_id"], ascending=[False, True], kind="stable")
    return ranked.head(LARGEST_CHANGES)[LARGEST_CHANGE_COLUMNS].reset_index(drop=True)


def record(conn: Connection, run: ReviewRun, shard: Shard, decisions: pd.DataFrame) -> None:
    """Replace the shard's counts of the run with those of ``decisions`` (every arm's, as staged)."""
    params = {"review_date": run.review_date, "run_mode": run.run_mode, "shard_count": shard.count,
              "shard": shard.index}
    db.execute_script(conn, "review/clear_shard_counts", params)
    keys = {"review_date": pd.Timestamp(run.review_date), "run_mode": run.run_mode, "shard_count": shard.count,
            "shard": shard.index}
    decisions = measured(decisions)
    for table_name, counts in (("shard_decision_counts", decision_counts(decisions)),
                               ("shard_reason_counts", reason_counts(decisions)),
                               ("shard_largest_changes", largest_changes(decisions))):
        db.bulk_insert(conn, table_name, counts.assign(**keys))
