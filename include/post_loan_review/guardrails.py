"""Guardrails between the policy's proposal and a decision: hard limits whatever the rules say.

In order: no action on untrusted data; a frozen account waits for a person; a customer who refused
automated-only decisions goes to manual review; an open appeal pauses decreases; cool-offs; a
restoration needs evidence of ability to pay; a cut keeps the balance plus a buffer (security
excepted); the floor and the ceiling (approved limit, customer's own cap) always hold. Every
guardrail that changes or blocks a proposal leaves an event: its name and the values it acted on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from post_loan_review.money import FEN_PER_YUAN, yuan_column
from post_loan_review.policy import Evaluation, Policy

# every guardrail that can shape a decision, as it is shown to operators
GUARDRAILS = {
    "DATA_QUALITY_HOLD": "a snapshot row was quarantined: no action",
    "MISSING_SNAPSHOT": "a snapshot was missing: no action",
    "ACCOUNT_FROZEN": "the account is frozen and waits for a person",
    "MANUAL_REVIEW_REQUIRED": "the customer refused automated-only decisions: a person decides",
    "APPEAL_OPEN": "an open appeal pauses automated decreases",
    "COOL_OFF_DECREASE": "decreased recently: no second cut yet",
    "COOL_OFF_INCREASE": "changed recently: no restoration yet",
    "NO_ABILITY_TO_PAY_EVIDENCE": "no verified income nor a record of full repayment: no restoration",
    "BALANCE_BUFFER": "cut stopped at the balance plus buffer",
    "FLOOR": "cut stopped at the floor",
    "AT_CEILING": "already at the approved limit or own cap",
    "AT_FLOOR": "already at the floor",
}
# the same, in Chinese, for the report's zh-CN view
GUARDRAILS_ZH = {
    "DATA_QUALITY_HOLD": "快照数据被隔离：不作处理",
    "MISSING_SNAPSHOT": "缺少快照：不作处理",
    "ACCOUNT_FROZEN": "账户已冻结，等待人工处理",
    "MANUAL_REVIEW_REQUIRED": "客户拒绝仅由自动化决定：由人工决定",
    "APPEAL_OPEN": "申诉处理中：暂停自动降额",
    "COOL_OFF_DECREASE": "近期已降额：暂不再次降额",
    "COOL_OFF_INCREASE": "近期已调整：暂不恢复额度",
    "NO_ABILITY_TO_PAY_EVIDENCE": "无收入核验或足额还款记录：不恢复额度",
    "BALANCE_BUFFER": "降额止于欠款加缓冲",
    "FLOOR": "降额止于底线",
    "AT_CEILING": "已达审批额度或客户自设上限",
    "AT_FLOOR": "已在底线",
}


@dataclass(frozen=True)
class GuardrailEvent:
    """One guardrail acting on some accounts, with a detail text for each of them."""

    name: str
    mask: np.ndarray
    detail: np.ndarray  # text per account where mask is true, in account order


def _text(values: np.ndarray) -> pd.Series:
    return pd.Series(np.asarray(values, dtype="int64")).astype(str)


def _yuan(fen: np.ndarray) -> pd.Series:
    return "¥" + yuan_column(fen)


def _round_down_to_yuan(fen: np.ndarray) -> np.ndarray:
    return (fen // FEN_PER_YUAN) * FEN_PER_YUAN


def _round_up_to_yuan(fen: np.ndarray) -> np.ndarray:
    return -((-fen) // FEN_PER_YUAN) * FEN_PER_YUAN


def apply_guardrails(evaluation: Evaluation, features: pd.DataFrame, policy: Policy,
                     quarantined: np.ndarray) -> tuple[pd.DataFrame, list[GuardrailEvent]]:
    """Decisions from proposals, aligned row by row with ``features`` (action, new limit and
    status, the guardrail that acted last), and the events of every guardrail that acted."""
    proposal = evaluation.proposal
    action = proposal["action"].to_numpy(dtype=object).copy()
    events: list[GuardrailEvent] = []
    old_limit = features["old_limit_fen"].to_numpy(dtype="int64")
    ceiling = features["ceiling_fen"].to_numpy(dtype="int64")
    balance = features["outstanding_balance_fen"].to_numpy(dtype="int64")
    status = features["status"].to_numpy(dtype=object)
    is_security = proposal["is_security"].to_numpy(dtype=bool)
    floor = policy.floor_fen

    def event(name: str, mask: np.ndarray, detail) -> None:
        """``detail``: one text for all, or a function of the mask giving a text per account.
        Every check is recorded, acting or not, so its place in ``events`` (its trace step) is
        the same whichever accounts a batch or a shard holds."""
        if not mask.any():
            text = np.empty(0, dtype=object)
        else:
            text = np.full(int(mask.sum()), detail, dtype=object) if isinstance(detail, str) else detail(mask)
        events.append(GuardrailEvent(name, mask, np.asarray(text, dtype=object)))

    def hold(mask: np.ndarray, name: str, detail, to: str = "HOLD") -> None:
        mask = mask & (action != "HOLD") & (action != "MANUAL_REVIEW")
        event(name, mask, detail)  # before the change, so a detail can name what was proposed
        action[mask] = to

    def days(column: str) -> np.ndarray:
        return features[column].to_numpy(dtype="float64", na_value=np.nan)

    # 1. no decision on data we could not trust
    is_quarantined = features["account_id"].isin(quarantined).to_numpy()
    missing = features["has_missing_snapshot"].to_numpy(dtype=bool) & ~is_quarantined
    action[is_quarantined | missing] = "HOLD"
    event("DATA_QUALITY_HOLD", is_quarantined, "a snapshot row of this account broke a data-quality rule")
    event("MISSING_SNAPSHOT", missing, "no credit-score or repayment snapshot for the review date")
    # 2. a frozen account waits for a person; freezing it again changes nothing
    hold(status == "frozen", "ACCOUNT_FROZEN", "the account is frozen; a person decides what happens next")
    # 3. PIPL Art. 24: a customer may refuse decisions made solely by automated means
    refused = features["refused_automated_decisions"].to_numpy(dtype=bool)
    hold(refused, "MANUAL_REVIEW_REQUIRED", lambda mask: "the policy proposed "
         + pd.Series(action[mask], dtype="string"), to="MANUAL_REVIEW")
    # 4. an open appeal pauses automated decreases; security still protects the customer
    lowering = np.isin(action, ["DECREASE", "DECREASE_TO_FLOOR", "FREEZE"])
    hold(features["has_open_appeal"].to_numpy(dtype=bool) & lowering & ~is_security, "APPEAL_OPEN",
         "an appeal is open: automated decreases wait for its outcome")
    # 5. cool-offs: no yo-yo
    since_decrease, since_increase = days("days_since_last_decrease"), days("days_since_last_increase")

    def ago(what: str, values: np.ndarray, rule: str):
        return lambda mask: f"last {what} " + _text(values[mask]) + f" days ago ({rule})"

    hold((action == "DECREASE") & (since_decrease < policy.cool_off_decrease_days), "COOL_OFF_DECREASE",
         ago("decrease", since_decrease, f"cool-off {policy.cool_off_decrease_days} days"))
    hold((action == "RESTORE") & (since_decrease < policy.cool_off_increase_days), "COOL_OFF_INCREASE",
         ago("decrease", since_decrease, f"cool-off {policy.cool_off_increase_days} days"))
    hold((action == "RESTORE") & (since_increase < policy.cool_off_restore_step_days), "COOL_OFF_INCREASE",
         ago("increase", since_increase, f"one step per {policy.cool_off_restore_step_days} days"))
    # 6. ability to pay: verified income or a sustained record of full repayment
    on_time = features["on_time_full_payment_months"].to_numpy(dtype="float64", na_value=0)
    income = features["verified_monthly_income_fen"].to_numpy(dtype="float64", na_value=0)
    evidence = (on_time >= policy.evidence_min_on_time_months) | (policy.evidence_income_verified & (income > 0))
    hold((action == "RESTORE") & ~evidence, "NO_ABILITY_TO_PAY_EVIDENCE",
         f"no verified income and fewer than {policy.evidence_min_on_time_months} on-time full repayments")

    # target limits, in integer fen rounded to the yuan
    decrease_pct = proposal["decrease_pct"].to_numpy(dtype="int64")
    cut = _round_down_to_yuan(old_limit * (100 - decrease_pct) // 100)
    restore_step = _round_down_to_yuan(features["approved_limit_fen"].to_numpy(dtype="int64")
                                       * policy.restore_step_pct // 100)
    new_limit = old_limit.copy()
    new_limit = np.where(action == "DECREASE", cut, new_limit)
    new_limit = np.where(action == "DECREASE_TO_FLOOR", floor, new_limit)
    new_limit = np.where(action == "RESTORE", np.minimum(old_limit + restore_step, ceiling), new_limit)

    # 7. a cut must not push the customer over the limit (balance + buffer), except for security
    buffered = _round_up_to_yuan(balance * (100 + policy.balance_buffer_pct) // 100)
    protects = np.isin(action, ["DECREASE", "DECREASE_TO_FLOOR"]) & ~is_security & (new_limit < buffered)
    new_limit = np.where(protects, np.minimum(buffered, old_limit), new_limit)
    event("BALANCE_BUFFER", protects, lambda mask: "balance " + _yuan(balance[mask])
          + f" + {policy.balance_buffer_pct} % = " + _yuan(buffered[mask]))
    # a floor cut the buffer stopped short of the floor is an ordinary decrease, and as one it
    # waits out the decrease cool-off like any other (found by the invariant tests)
    relabelled = (action == "DECREASE_TO_FLOOR") & (new_limit > floor)
    action[relabelled] = "DECREASE"
    cooling = relabelled & (since_decrease < policy.cool_off_decrease_days)
    hold(cooling, "COOL_OFF_DECREASE", ago("decrease", since_decrease, f"cool-off {policy.cool_off_decrease_days} days"))
    new_limit = np.where(cooling, old_limit, new_limit)
    # 8. the floor and the ceiling always hold
    below_floor = np.isin(action, ["DECREASE", "DECREASE_TO_FLOOR"]) & (new_limit < floor)
    new_limit = np.where(below_floor, np.minimum(floor, old_limit), new_limit)
    new_limit = np.where((action == "RESTORE") & (new_limit > ceiling), ceiling, new_limit)

    # a decrease or restoration that moves nothing is a hold
    unchanged = np.isin(action, ["DECREASE", "DECREASE_TO_FLOOR", "RESTORE"]) & (new_limit == old_limit)
    at_floor = unchanged & (action != "RESTORE") & (new_limit <= floor)
    event("FLOOR", below_floor & ~at_floor, f"cut stopped at the floor {_yuan(np.array([floor])).iloc[0]}")
    event("AT_FLOOR", at_floor, f"the limit is already at the floor {_yuan(np.array([floor])).iloc[0]}")
    event("AT_CEILING", unchanged & (action == "RESTORE"), "the limit is already at its ceiling")
    action[unchanged] = "HOLD"

    _check_bounds(features["account_id"].to_numpy(), old_limit, new_limit, ceiling, floor)
    final_guardrail = np.full(len(action), None, dtype=object)
    for guardrail in events:  # the last guardrail to act has the final word and names the decision
        final_guardrail[guardrail.mask] = guardrail.name
    decisions = pd.DataFrame({
        "account_id": features["account_id"].to_numpy(),
        "action": action,
        "old_limit_fen": old_limit,
        "new_limit_fen": new_limit.astype("int64"),
        "old_status": status,
        "new_status": np.where(action == "FREEZE", "frozen", status),
        "guardrail": pd.array(final_guardrail, dtype="string"),
    })
    return decisions, events


def _check_bounds(account_id, old_limit, new_limit, ceiling, floor) -> None:
    """The promise every decision keeps: a changed limit is never below the floor nor above the
    ceiling. A breach is a bug in a rule or a guardrail, never something to write."""
    changed = new_limit != old_limit
    broken = changed & ((new_limit < floor) | (new_limit > ceiling))
    if broken.any():
        raise RuntimeError(f"guardrail breach: {int(broken.sum())} decision(s) outside floor {floor} fen and "
                           f"ceiling, e.g. account {account_id[broken][0]}: {old_limit[broken][0]} -> "
                           f"{new_limit[broken][0]} fen (ceiling {ceiling[broken][0]})")
