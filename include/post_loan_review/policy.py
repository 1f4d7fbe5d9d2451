"""A versioned policy file (``include/policies/<version>.yaml``): read, checked against its schema,
and evaluated over every account at once into an action and ranked reason codes.

Checking is strict because a policy moves real customers' limits: an unknown key, signal or
feature, a threshold outside its feature's range, a reason without its customer texts, a rule that
can never fire or two rules with the same condition are all refused, and the error names the file,
the key path and what is wrong.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from post_loan_review.conditions import Condition, ConditionError, feature_arrays, parse
from post_loan_review.config import POLICY_DIR
from post_loan_review.features import FEATURE_RANGES, PROTECTED_ATTRIBUTES

ACTIONS = ("DECREASE", "DECREASE_TO_FLOOR", "FREEZE", "RESTORE", "MANUAL_REVIEW", "HOLD")
LOWERING_ACTIONS = ("DECREASE", "DECREASE_TO_FLOOR", "FREEZE")
# a stronger lowering action wins when several rules fire
ACTION_STRENGTH = {"HOLD": 0, "RESTORE": 1, "DECREASE": 2, "DECREASE_TO_FLOOR": 3, "FREEZE": 4}
SIGNALS = ("score", "consumption", "repayment", "security", "over_borrowing")
LANGUAGES = ("zh-CN", "en")
MAX_REASONS = 4
CHALLENGER_MODES = ("live", "shadow")
_CODE = re.compile(r"^[A-Z][A-Z0-9_]{2,63}$")


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the file, the key path and the fault."""


@dataclass(frozen=True)
class Rule:
    code: str
    condition: Condition
    severity: int
    action: str
    decrease_pct: int
    signal: str
    reason: dict[str, str]
    advice: dict[str, str]

    @property
    def when(self) -> str:
        return self.condition.text


@dataclass(frozen=True)
class Challenger:
    policy: str
    share_pct: float
    experiment: str
    mode: str  # live: the challenger decides for its share; shadow: computed for all, applied to none


@dataclass(frozen=True)
class Policy:
    version: str
    description: str
    floor_fen: int
    max_decrease_pct: int
    restore_step_pct: int
    balance_buffer_pct: int
    cool_off_decrease_days: int
    cool_off_increase_days: int
    cool_off_restore_step_days: int
    security_window_days: int
    income_window_days: int
    score_baseline_days: int
    evidence_min_on_time_months: int
    evidence_income_verified: bool
    guard_max_lowering_share_pct: float
    guard_max_exposure_change_pct: float
    guard_max_score_psi: float
    lowering_rules: tuple[Rule, ...]
    restoring_rules: tuple[Rule, ...]
    restoration_requires: Condition
    challenger: Challenger | None
    path: Path

    @property
    def rules(self) -> tuple[Rule, ...]:
        return self.lowering_rules + self.restoring_rules

    def rule(self, code: str) -> Rule:
        for rule in self.rules:
            if rule.code == code:
                return rule
        raise KeyError(code)

    @property
    def features(self) -> list[str]:
        """Every feature the policy reads."""
        names = [name for rule in self.rules for name in rule.condition.features]
        return list(dict.fromkeys(names + self.restoration_requires.features))


def available_versions() -> list[str]:
    return sorted(path.stem for path in POLICY_DIR.glob("*.yaml"))


@functools.cache
def load_policy(version: str) -> Policy:
    """Read and check ``include/policies/<version>.yaml``."""
    path = POLICY_DIR / f"{version}.yaml"
    if not path.is_file():
        raise PolicyError(f"no policy {version!r}: {path} does not exist (have: {', '.join(available_versions())})")
    return load_policy_file(path)


class _Reader:
    """Reads one mapping of the file, naming the key path in every error."""

    def __init__(self, path: Path, raw: Any, where: str, allowed: set[str]):
        self.path, self.where = path, where
        if not isinstance(raw, dict):
            self.fail(f"must be a mapping, not {type(raw).__name__}")
        unknown = sorted(set(raw) - allowed)
        if unknown:
            self.fail(f"unknown key(s) {', '.join(map(repr, unknown))} (allowed: {', '.join(sorted(allowed))})")
        self.raw = raw

    def fail(self, what: str, key: str | None = None):
        where = f"{self.where}.{key}" if key and self.where else key or self.where or "the policy"
        raise PolicyError(f"{self.path}: {where}: {what}")

    def get(self, key: str, kind: type | tuple, low: float | None = None, high: float | None = None,
            default: Any = ..., choices: tuple | None = None) -> Any:
        if key not in self.raw:
            if default is ...:
                self.fail("is missing", key)
            return default
        value = self.raw[key]
        if isinstance(value, bool) and kind is not bool:
            self.fail(f"must be {getattr(kind, '__name__', kind)}, not {value!r}", key)
        if not isinstance(value, kind):
            self.fail(f"must be {getattr(kind, '__name__', 'a number')}, not {value!r}", key)
        if low is not None and not (low <= value <= high):
            self.fail(f"{value!r} is out of range {low}..{high}", key)
        if choices is not None and value not in choices:
            self.fail(f"{value!r} is not one of {', '.join(choices)}", key)
        return value

    def child(self, key: str, allowed: set[str]) -> "_Reader":
        if key not in self.raw:
            self.fail("is missing", key)
        return _Reader(self.path, self.raw[key], f"{self.where}.{key}" if self.where else key, allowed)

    def condition(self, key: str) -> Condition:
        try:
            return parse(self.get(key, str), FEATURE_RANGES, PROTECTED_ATTRIBUTES)
        except ConditionError as error:
            self.fail(str(error), key)

    def texts(self, key: str) -> dict[str, str]:
        texts = self.child(key, set(LANGUAGES))
        out = {}
        for language in LANGUAGES:
            text = texts.get(language, str)
            if not text.strip():
                texts.fail("is empty", language)
            out[language] = text
        return out


_RULE_KEYS = {"code", "signal", "when", "action", "decrease_pct", "severity", "reason", "advice"}


def _rule(path: Path, raw: Any, where: str, restoring: bool) -> Rule:
    reader = _Reader(path, raw, where, _RULE_KEYS - ({"signal", "action", "decrease_pct"} if restoring else set()))
    code = reader.get("code", str)
    if not _CODE.match(code):
        reader.fail(f"{code!r} must be UPPER_SNAKE_CASE, 3 to 64 characters", "code")
    reader.where = f"{where} ({code})"
    if restoring:
        action, decrease_pct, signal = "RESTORE", 0, "restoration"
    else:
        signal = reader.get("signal", str, choices=SIGNALS)
        action = reader.get("action", str, choices=LOWERING_ACTIONS)
        if action == "DECREASE":
            decrease_pct = reader.get("decrease_pct", int, 1, 99)
        elif "decrease_pct" in reader.raw:
            reader.fail(f"applies to DECREASE only, not {action}", "decrease_pct")
        else:
            decrease_pct = 0
    return Rule(code=code, condition=reader.condition("when"), severity=reader.get("severity", int, 1, 1000),
                action=action, decrease_pct=decrease_pct, signal=signal,
                reason=reader.texts("reason"), advice=reader.texts("advice"))


def _rules(path: Path, top: _Reader, raw_rules: Any, where: str, restoring: bool) -> tuple[Rule, ...]:
    if not isinstance(raw_rules, list) or not raw_rules:
        top.fail("must be a non-empty list of rules", where)
    return tuple(_rule(path, raw, f"{where}[{index}]", restoring) for index, raw in enumerate(raw_rules))


def _check_overlaps(path: Path, lowering: tuple[Rule, ...], restoring: tuple[Rule, ...]) -> None:
    """Refuse a code used twice, and two rules of a kind that fire on exactly the same condition."""
    codes: set[str] = set()
    conditions: dict[str, str] = {}
    for where, rules in (("lowering_rules", lowering), ("restoration.rules", restoring)):
        for index, rule in enumerate(rules):
            label = f"{where}[{index}] ({rule.code})"
            if rule.code in codes:
                raise PolicyError(f"{path}: {label}: rule code {rule.code} is used twice")
            codes.add(rule.code)
            key = f"{where}:{rule.condition.normal_form()}"
            if key in conditions:
                raise PolicyError(f"{path}: {label}: overlaps {conditions[key]}: both fire on exactly "
                                  f"'{rule.condition.text}', so one of them can never add anything")
            conditions[key] = label


def load_policy_file(path: Path) -> Policy:
    """Read and check one policy file; its ``version`` must match its file name."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyError(f"{path}: cannot be read: {error}") from error
    except yaml.YAMLError as error:
        raise PolicyError(f"{path}: not valid YAML: {error}") from error
    top = _Reader(path, raw, "", {"version", "description", "limits", "cool_off_days", "windows_days",
                                  "restoration_evidence", "portfolio_guard", "challenger", "lowering_rules",
                                  "restoration"})
    version = top.get("version", str)
    if version != path.stem:
        top.fail(f"{version!r} does not match the file name {path.stem!r}", "version")
    limits = top.child("limits", {"floor_yuan", "max_decrease_pct", "restore_step_pct", "balance_buffer_pct"})
    cool_off = top.child("cool_off_days", {"decrease_after_decrease", "increase_after_decrease", "increase_after_increase"})
    windows = top.child("windows_days", {"security_events", "income_verification", "score_baseline"})
    evidence = top.child("restoration_evidence", {"min_on_time_full_payment_months", "income_verified"})
    restoration = top.child("restoration", {"requires", "rules"})
    guard = top.child("portfolio_guard", {"max_lowering_share_pct", "max_exposure_change_pct", "max_score_psi"})
    challenger = None
    if top.raw.get("challenger") is not None:
        section = top.child("challenger", {"policy", "share_pct", "experiment", "mode"})
        challenger = Challenger(policy=section.get("policy", str), share_pct=float(section.get("share_pct", (int, float), 0, 100)),
                                experiment=section.get("experiment", str), mode=section.get("mode", str, choices=CHALLENGER_MODES))
        if challenger.policy == version:
            section.fail("a policy cannot be its own challenger", "policy")
    lowering = _rules(path, top, top.raw.get("lowering_rules"), "lowering_rules", restoring=False)
    restoring = _rules(path, restoration, restoration.raw.get("rules"), "restoration.rules", restoring=True)
    _check_overlaps(path, lowering, restoring)
    return Policy(
        version=version,
        description=top.get("description", str, default=""),
        floor_fen=limits.get("floor_yuan", int, 1, 100_000) * 100,
        max_decrease_pct=limits.get("max_decrease_pct", int, 1, 100),
        restore_step_pct=limits.get("restore_step_pct", int, 0, 100),
        balance_buffer_pct=limits.get("balance_buffer_pct", int, 0, 100),
        cool_off_decrease_days=cool_off.get("decrease_after_decrease", int, 0, 3650),
        cool_off_increase_days=cool_off.get("increase_after_decrease", int, 0, 3650),
        cool_off_restore_step_days=cool_off.get("increase_after_increase", int, 0, 3650),
        security_window_days=windows.get("security_events", int, 1, 365),
        income_window_days=windows.get("income_verification", int, 1, 3650),
        score_baseline_days=windows.get("score_baseline", int, 1, 3650),
        evidence_min_on_time_months=evidence.get("min_on_time_full_payment_months", int, 1, 600),
        evidence_income_verified=evidence.get("income_verified", bool),
        guard_max_lowering_share_pct=float(guard.get("max_lowering_share_pct", (int, float), 0, 100)),
        guard_max_exposure_change_pct=float(guard.get("max_exposure_change_pct", (int, float), 0, 100)),
        guard_max_score_psi=float(guard.get("max_score_psi", (int, float), 0, 10)),
        lowering_rules=lowering,
        restoring_rules=restoring,
        restoration_requires=restoration.condition("requires"),
        challenger=challenger,
        path=path,
    )


@dataclass(frozen=True)
class Evaluation:
    """The policy's proposal for every account, before guardrails, and what fired."""

    proposal: pd.DataFrame  # account_id, action, decrease_pct, is_security, reason_1..4
    fired: np.ndarray  # accounts x policy.rules (lowering then restoring): which rules fired
    values: dict[str, np.ndarray]  # the feature values the conditions read


def _ranked_codes(fired: np.ndarray, rules: tuple[Rule, ...]) -> np.ndarray:
    """For each account, the codes of the fired rules by severity, highest first, four at most."""
    n = fired.shape[0]
    codes = np.full((n, MAX_REASONS), None, dtype=object)
    if not rules:
        return codes
    severity = np.where(fired, np.array([r.severity for r in rules]), -1)
    order = np.argsort(-severity, axis=1, kind="stable")[:, :MAX_REASONS]
    ranked = np.array([r.code for r in rules], dtype=object)[order]
    ranked[np.take_along_axis(severity, order, axis=1) < 0] = None
    codes[:, :ranked.shape[1]] = ranked
    return codes


def evaluate(policy: Policy, features: pd.DataFrame) -> Evaluation:
    """Every rule over every account at once. The strongest lowering action wins; DECREASE steps
    compound up to ``max_decrease_pct``; a restoring rule counts only when nothing lowers, the
    restoration condition holds and the limit is below its ceiling."""
    n = len(features)
    values = feature_arrays(features, policy.features)
    lowering = np.column_stack([r.condition.evaluate(values) for r in policy.lowering_rules])
    restoring = np.column_stack([r.condition.evaluate(values) for r in policy.restoring_rules])
    able_to_pay = policy.restoration_requires.evaluate(values)

    strength = np.array([ACTION_STRENGTH[r.action] for r in policy.lowering_rules])
    lowering_strength = np.where(lowering, strength, 0).max(axis=1, initial=0)
    # independent signals compound: keep (1 - p1)(1 - p2)... of the limit, capped per review
    kept_share = np.where(lowering & (strength == ACTION_STRENGTH["DECREASE"]),
                          1 - np.array([r.decrease_pct for r in policy.lowering_rules]) / 100, 1.0).prod(axis=1)
    decrease_pct = np.minimum(np.rint((1 - kept_share) * 100), policy.max_decrease_pct).astype("int64")
    below_ceiling = (features["old_limit_fen"] < features["ceiling_fen"]).to_numpy(dtype=bool)
    restore = (lowering_strength == 0) & restoring.any(axis=1) & able_to_pay & below_ceiling

    names = np.array(["HOLD", "RESTORE", "DECREASE", "DECREASE_TO_FLOOR", "FREEZE"], dtype=object)
    action = names[np.where(restore, ACTION_STRENGTH["RESTORE"], lowering_strength)]
    security = np.array([r.signal == "security" for r in policy.lowering_rules])
    # a HOLD keeps the lowering codes that fired (a guardrail stopped them); restoring codes only
    # stand behind a restoration
    codes = np.where(restore[:, None], _ranked_codes(restoring, policy.restoring_rules),
                     _ranked_codes(lowering, policy.lowering_rules))
    proposal = pd.DataFrame({
        "account_id": features["account_id"].to_numpy(),
        "action": action,
        "decrease_pct": decrease_pct,
        "is_security": (lowering & security).any(axis=1),
    })
    for k in range(MAX_REASONS):
        proposal[f"reason_{k + 1}"] = pd.array(codes[:, k], dtype="string")
    fired = np.hstack([lowering, restoring & restore[:, None]]) if n else np.zeros((0, len(policy.rules)), bool)
    return Evaluation(proposal=proposal, fired=fired, values=values)
