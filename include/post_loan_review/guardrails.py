"""Guardrails between the policy's proposal and a decision: data holds, frozen accounts, open
appeals, cool-offs, the floor, the approved limit and the customer's own cap, and the balance
buffer. Each guardrail that changes a proposal names itself in ``guardrail``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from post_loan_review.policy import Policy

FEN_PER_YUAN = 100
# every guardrail that can shape a decision, as it is shown to operators
GUARDRAILS = {
    "DATA_QUALITY_HOLD": "a snapshot row was quarantined: no action",
    "MISSING_SNAPSHOT": "a snapshot was missing: no action",
    "ACCOUNT_FROZEN": "the account is frozen and waits for a person",
    "APPEAL_OPEN": "an open appeal pauses automated decreases",
    "COOL_OFF_DECREASE": "decreased recently: no second cut yet",
    "COOL_OFF_INCREASE": "changed recently: no restoration yet",
    "BALANCE_BUFFER": "cut stopped at the balance plus buffer",
    "FLOOR": "cut stopped at the floor",
    "AT_CEILING": "already at the approved limit or own cap",
    "AT_FLOOR": "already at the floor",
}


def _round_down_to_yuan(fen: np.ndarray) -> np.ndarray:
    return (fen // FEN_PER_YUAN) * FEN_PER_YUAN


def _round_up_to_yuan(fen: np.ndarray) -> np.ndarray:
    return -((-fen) // FEN_PER_YUAN) * FEN_PER_YUAN


def apply_guardrails(proposal: pd.DataFrame, features: pd.DataFrame, policy: Policy,
                     quarantined: np.ndarray) -> pd.DataFrame:
    """Decisions from proposals, aligned row by row with ``features``: action, new limit and
    status, and the guardrail that shaped each one (missing when none did)."""
    action = proposal["action"].to_numpy(dtype=object).copy()
    guardrail = np.full(len(action), None, dtype=object)
    old_limit = features["old_limit_fen"].to_numpy(dtype="int64")
    ceiling = features["ceiling_fen"].to_numpy(dtype="int64")
    balance = features["outstanding_balance_fen"].to_numpy(dtype="int64")
    status = features["status"].to_numpy(dtype=object)
    is_security = proposal["is_security"].to_numpy(dtype=bool)
    floor = policy.floor_fen

    def hold(mask: np.ndarray, name: str) -> None:
        mask = mask & (action != "HOLD")
        action[mask] = "HOLD"
        guardrail[mask] = name

    lowering = np.isin(action, ["DECREASE", "DECREASE_TO_FLOOR", "FREEZE"])
    # 1. no decision on data we could not trust
    is_quarantined = features["account_id"].isin(quarantined).to_numpy()
    missing = features["has_missing_snapshot"].to_numpy(dtype=bool)
    action[is_quarantined | missing] = "HOLD"
    guardrail[missing] = "MISSING_SNAPSHOT"
    guardrail[is_quarantined] = "DATA_QUALITY_HOLD"
    # 2. a frozen account waits for a person; freezing it again changes nothing
    hold(status == "frozen", "ACCOUNT_FROZEN")
    # 3. an open appeal pauses automated decreases; security still protects the customer
    hold(features["has_open_appeal"].to_numpy(dtype=bool) & lowering & ~is_security, "APPEAL_OPEN")
    # 4. cool-offs: no yo-yo
    since_decrease = features["days_since_last_decrease"].to_numpy(dtype="float64", na_value=np.nan)
    hold((action == "DECREASE") & (since_decrease < policy.cool_off_decrease_days), "COOL_OFF_DECREASE")
    since_increase = features["days_since_last_increase"].to_numpy(dtype="float64", na_value=np.nan)
    hold((action == "RESTORE") & ((since_decrease < policy.cool_off_increase_days)
                                  | (since_increase < policy.cool_off_restore_step_days)), "COOL_OFF_INCREASE")

    # target limits
    decrease_pct = proposal["decrease_pct"].to_numpy(dtype="int64")
    cut = _round_down_to_yuan(old_limit * (100 - decrease_pct) // 100)
    restore_step = _round_down_to_yuan(features["approved_limit_fen"].to_numpy(dtype="int64")
                                       * policy.restore_step_pct // 100)
    new_limit = old_limit.copy()
    new_limit = np.where(action == "DECREASE", cut, new_limit)
    new_limit = np.where(action == "DECREASE_TO_FLOOR", floor, new_limit)
    new_limit = np.where(action == "RESTORE", np.minimum(old_limit + restore_step, ceiling), new_limit)

    # 5. a cut must not push the customer over the limit (balance + buffer), except for security
    buffered = _round_up_to_yuan(balance * (100 + policy.balance_buffer_pct) // 100)
    protects = np.isin(action, ["DECREASE", "DECREASE_TO_FLOOR"]) & ~is_security & (new_limit < buffered)
    new_limit = np.where(protects, np.minimum(buffered, old_limit), new_limit)
    guardrail[protects] = "BALANCE_BUFFER"
    # 6. the floor and the ceiling (approved limit, customer's own cap) always hold
    below_floor = np.isin(action, ["DECREASE", "DECREASE_TO_FLOOR"]) & (new_limit < floor)
    new_limit = np.where(below_floor, np.minimum(floor, old_limit), new_limit)
    guardrail[below_floor & (guardrail == None)] = "FLOOR"  # noqa: E711 (element-wise)
    above_ceiling = np.isin(action, ["RESTORE"]) & (new_limit > ceiling)
    new_limit = np.where(above_ceiling, ceiling, new_limit)

    # a decrease or restoration that moves nothing is a hold
    unchanged = np.isin(action, ["DECREASE", "DECREASE_TO_FLOOR", "RESTORE"]) & (new_limit == old_limit)
    guardrail[unchanged & (action != "RESTORE") & (new_limit <= floor)] = "AT_FLOOR"
    guardrail[unchanged & (action == "RESTORE")] = "AT_CEILING"
    action[unchanged] = "HOLD"
    # a floor cut the buffer stopped short of the floor is an ordinary decrease
    action[(action == "DECREASE_TO_FLOOR") & (new_limit > floor)] = "DECREASE"

    _check_bounds(features["account_id"].to_numpy(), old_limit, new_limit, ceiling, floor)
    new_status = np.where(action == "FREEZE", "frozen", status)
    return pd.DataFrame({
        "account_id": features["account_id"].to_numpy(),
        "action": action,
        "old_limit_fen": old_limit,
        "new_limit_fen": new_limit.astype("int64"),
        "old_status": status,
        "new_status": new_status,
        "guardrail": pd.array(guardrail, dtype="string"),
    })


def _check_bounds(account_id, old_limit, new_limit, ceiling, floor) -> None:
    """The promise every decision keeps: a changed limit is never below the floor nor above the
    ceiling. A breach is a bug in a rule or a guardrail, never something to write."""
    changed = new_limit != old_limit
    broken = changed & ((new_limit < floor) | (new_limit > ceiling))
    if broken.any():
        raise RuntimeError(f"guardrail breach: {int(broken.sum())} decision(s) outside floor {floor} fen and "
                           f"ceiling, e.g. account {account_id[broken][0]}: {old_limit[broken][0]} -> "
                           f"{new_limit[broken][0]} fen (ceiling {ceiling[broken][0]})")
