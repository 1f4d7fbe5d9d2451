"""check_portfolio: the breaker between reassessment and apply. When a run would lower an unusual
share of the book, move an unusual share of the exposure, or the score distribution shifted (PSI),
nothing is applied until a person approves (in Airflow, a human-in-the-loop approval task)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from sqlalchemy import Connection

from post_loan_review import db
from post_loan_review.policy import LOWERING_ACTIONS, Policy
from post_loan_review.drift import psi_from_counts, score_counts
from post_loan_review.runs import ReviewRun
from post_loan_review.snapshots import previous_snapshot_date


class PortfolioBreakerTripped(RuntimeError):
    """The run crossed a portfolio guard: it waits for a person's approval before applying."""


def breaker_verdict(groups: pd.DataFrame, psi: float | None, previous: date | None, policy: Policy) -> dict[str, Any]:
    """The breaker's figures from a run's decision counts (``report/decision_counts``) and score
    PSI, against the policy's guards; ``breached`` and why."""
    reviewed = int(groups["accounts"].sum())
    lowering = int(groups.loc[groups["action"].isin(LOWERING_ACTIONS), "accounts"].sum())
    before, after = int(groups["exposure_before_fen"].sum()), int(groups["exposure_after_fen"].sum())
    figures = {
        "accounts_reviewed": reviewed,
        "lowering_share_pct": round(lowering * 100 / reviewed, 3) if reviewed else 0.0,
        "exposure_change_pct": round(abs(after - before) * 100 / before, 3) if before else 0.0,
        "score_psi": None if psi is None else round(psi, 4),
    }
    reasons = []
    if figures["lowering_share_pct"] > policy.guard_max_lowering_share_pct:
        reasons.append(f"{figures['lowering_share_pct']:.2f} % of accounts lowered "
                       f"(guard {policy.guard_max_lowering_share_pct:g} %)")
    if figures["exposure_change_pct"] > policy.guard_max_exposure_change_pct:
        reasons.append(f"exposure moved {figures['exposure_change_pct']:.2f} % "
                       f"(guard {policy.guard_max_exposure_change_pct:g} %)")
    if psi is not None and psi > policy.guard_max_score_psi:
        reasons.append(f"score PSI {psi:.3f} against {previous} (guard {policy.guard_max_score_psi:g})")
    return {**figures, "breached": bool(reasons), "reasons": reasons}


def check_portfolio(conn: Connection, run: ReviewRun, policy: Policy, shard_count: int = 1) -> dict[str, Any]:
    """The run's portfolio figures against the policy's guards, from the decisions its
    ``shard_count`` reassessment shards counted; ``breached`` and why."""
    groups = db.read_frame(conn, "report/decision_counts", {"review_date": run.review_date, "run_mode": run.run_mode,
                                                            "shard_count": shard_count})
    previous = previous_snapshot_date(conn, run.review_date)
    psi = psi_from_counts(score_counts(conn, previous), score_counts(conn, run.review_date)) if previous else None
    return breaker_verdict(groups, psi, previous, policy)
