"""A versioned policy file (``include/policies/<version>.yaml``): its rules, read and checked,
and their vectorised evaluation into an action and ranked reason codes for every account."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from post_loan_review.config import POLICY_DIR

ACTIONS = ("DECREASE", "DECREASE_TO_FLOOR", "FREEZE", "RESTORE", "HOLD")
LOWERING_ACTIONS = ("DECREASE", "DECREASE_TO_FLOOR", "FREEZE")
# a stronger lowering action wins when several rules fire
ACTION_STRENGTH = {"HOLD": 0, "RESTORE": 1, "DECREASE": 2, "DECREASE_TO_FLOOR": 3, "FREEZE": 4}
LANGUAGES = ("zh-CN", "en")
MAX_REASONS = 4


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Rule:
    code: str
    when: str
    severity: int
    action: str
    decrease_pct: int
    signal: str
    reason: dict[str, str]
    advice: dict[str, str]


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
    lowering_rules: tuple[Rule, ...]
    restoring_rules: tuple[Rule, ...]
    restoration_requires: str
    path: Path

    @property
    def rules(self) -> tuple[Rule, ...]:
        return self.lowering_rules + self.restoring_rules

    def rule(self, code: str) -> Rule:
        for rule in self.rules:
            if rule.code == code:
                return rule
        raise KeyError(code)


def available_versions() -> list[str]:
    return sorted(path.stem for path in POLICY_DIR.glob("*.yaml"))


def _require(mapping: Any, key: str, where: str, path: Path, kind: type = object) -> Any:
    if not isinstance(mapping, dict) or key not in mapping:
        raise PolicyError(f"{path}: {where} is missing '{key}'")
    value = mapping[key]
    if kind is not object and not isinstance(value, kind):
        raise PolicyError(f"{path}: {where}.{key} must be {kind.__name__}, not {value!r}")
    return value


def _texts(raw: dict, key: str, where: str, path: Path) -> dict[str, str]:
    texts = _require(raw, key, where, path, dict)
    for language in LANGUAGES:
        _require(texts, language, f"{where}.{key}", path, str)
    return {language: texts[language] for language in LANGUAGES}


def _rule(raw: dict, where: str, path: Path, restoring: bool) -> Rule:
    code = _require(raw, "code", where, path, str)
    where = f"{where} ({code})"
    action = "RESTORE" if restoring else _require(raw, "action", where, path, str)
    if action not in LOWERING_ACTIONS + (("RESTORE",) if restoring else ()):
        raise PolicyError(f"{path}: {where}.action must be one of {LOWERING_ACTIONS}, not {action!r}")
    decrease_pct = int(raw.get("decrease_pct", 0))
    if action == "DECREASE" and not 0 < decrease_pct < 100:
        raise PolicyError(f"{path}: {where}.decrease_pct must be between 1 and 99 for a DECREASE")
    return Rule(code=code, when=_require(raw, "when", where, path, str),
                severity=_require(raw, "severity", where, path, int), action=action,
                decrease_pct=decrease_pct, signal=raw.get("signal", "restoration"),
                reason=_texts(raw, "reason", where, path), advice=_texts(raw, "advice", where, path))


@functools.cache
def load_policy(version: str) -> Policy:
    """Read and check ``include/policies/<version>.yaml``."""
    path = POLICY_DIR / f"{version}.yaml"
    if not path.is_file():
        raise PolicyError(f"no policy {version!r}: {path} does not exist (have: {', '.join(available_versions())})")
    return load_policy_file(path)


def load_policy_file(path: Path) -> Policy:
    """Read and check one policy file; its ``version`` must match its file name."""
    version = path.stem
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise PolicyError(f"{path}: not valid YAML: {error}") from error
    if _require(raw, "version", "the policy", path, str) != version:
        raise PolicyError(f"{path}: version field {raw['version']!r} does not match the file name {version!r}")
    limits = _require(raw, "limits", "the policy", path, dict)
    cool_off = _require(raw, "cool_off_days", "the policy", path, dict)
    windows = _require(raw, "windows_days", "the policy", path, dict)
    restoration = _require(raw, "restoration", "the policy", path, dict)
    lowering = tuple(_rule(r, f"lowering_rules[{i}]", path, False)
                     for i, r in enumerate(_require(raw, "lowering_rules", "the policy", path, list)))
    restoring = tuple(_rule(r, f"restoration.rules[{i}]", path, True)
                      for i, r in enumerate(_require(restoration, "rules", "restoration", path, list)))
    codes = [rule.code for rule in lowering + restoring]
    duplicates = sorted({code for code in codes if codes.count(code) > 1})
    if duplicates:
        raise PolicyError(f"{path}: rule codes must be unique; repeated: {', '.join(duplicates)}")
    policy = Policy(
        version=version,
        description=str(raw.get("description", "")),
        floor_fen=_require(limits, "floor_yuan", "limits", path, int) * 100,
        max_decrease_pct=_require(limits, "max_decrease_pct", "limits", path, int),
        restore_step_pct=_require(limits, "restore_step_pct", "limits", path, int),
        balance_buffer_pct=_require(limits, "balance_buffer_pct", "limits", path, int),
        cool_off_decrease_days=_require(cool_off, "decrease_after_decrease", "cool_off_days", path, int),
        cool_off_increase_days=_require(cool_off, "increase_after_decrease", "cool_off_days", path, int),
        cool_off_restore_step_days=_require(cool_off, "increase_after_increase", "cool_off_days", path, int),
        security_window_days=_require(windows, "security_events", "windows_days", path, int),
        income_window_days=_require(windows, "income_verification", "windows_days", path, int),
        score_baseline_days=_require(windows, "score_baseline", "windows_days", path, int),
        lowering_rules=lowering,
        restoring_rules=restoring,
        restoration_requires=_require(restoration, "requires", "restoration", path, str),
        path=path,
    )
    if policy.floor_fen <= 0:
        raise PolicyError(f"{path}: limits.floor_yuan must be positive")
    return policy


def _condition(features: pd.DataFrame, expression: str, where: str) -> np.ndarray:
    """A rule's condition over all accounts at once; a missing value makes it false."""
    try:
        result = features.eval(expression)
    except Exception as error:  # pandas raises several kinds for a bad expression
        raise PolicyError(f"{where}: cannot evaluate {expression!r}: {error}") from error
    if not isinstance(result, pd.Series):
        raise PolicyError(f"{where}: {expression!r} is not a condition over accounts")
    return result.astype("boolean").fillna(False).to_numpy(dtype=bool)


def _ranked_codes(fired: np.ndarray, rules: tuple[Rule, ...]) -> np.ndarray:
    """For each account, the codes of the fired rules by severity, highest first, four at most."""
    n = fired.shape[0]
    if not rules:
        return np.full((n, MAX_REASONS), None, dtype=object)
    severity = np.where(fired, np.array([r.severity for r in rules]), -1)
    order = np.argsort(-severity, axis=1, kind="stable")[:, :MAX_REASONS]
    codes = np.array([r.code for r in rules], dtype=object)[order]
    codes[np.take_along_axis(severity, order, axis=1) < 0] = None
    if codes.shape[1] < MAX_REASONS:
        codes = np.hstack([codes, np.full((n, MAX_REASONS - codes.shape[1]), None, dtype=object)])
    return codes


def evaluate(policy: Policy, features: pd.DataFrame) -> pd.DataFrame:
    """The policy's proposal for every account, before guardrails: ``action``,
    ``decrease_pct`` (compounded, capped), ``is_security`` and ``reason_1..4``."""
    where = f"{policy.path}"
    lowering = np.column_stack([_condition(features, r.when, f"{where} {r.code}") for r in policy.lowering_rules]) \
        if policy.lowering_rules else np.zeros((len(features), 0), dtype=bool)
    restoring = np.column_stack([_condition(features, r.when, f"{where} {r.code}") for r in policy.restoring_rules]) \
        if policy.restoring_rules else np.zeros((len(features), 0), dtype=bool)
    able_to_pay = _condition(features, policy.restoration_requires, f"{where} restoration.requires")

    strength = np.array([ACTION_STRENGTH[r.action] for r in policy.lowering_rules])
    lowering_strength = np.where(lowering, strength, 0).max(axis=1, initial=0)
    # independent signals compound: keep (1 - p1)(1 - p2)... of the limit, capped per review
    kept_share = np.where(lowering & (strength == ACTION_STRENGTH["DECREASE"]),
                          1 - np.array([r.decrease_pct for r in policy.lowering_rules]) / 100, 1.0).prod(axis=1)
    decrease_pct = np.minimum(np.rint((1 - kept_share) * 100), policy.max_decrease_pct).astype("int64")
    # only a limit below its ceiling (approved limit, customer's cap) has anything to restore
    below_ceiling = (features["old_limit_fen"] < features["ceiling_fen"]).to_numpy(dtype=bool)
    restore = (lowering_strength == 0) & restoring.any(axis=1) & able_to_pay & below_ceiling

    names = np.array(["HOLD", "RESTORE", "DECREASE", "DECREASE_TO_FLOOR", "FREEZE"], dtype=object)
    action = names[np.where(restore, ACTION_STRENGTH["RESTORE"], lowering_strength)]
    security = np.array([r.signal == "security" for r in policy.lowering_rules])
    lowering_codes = _ranked_codes(lowering, policy.lowering_rules)
    restoring_codes = _ranked_codes(restoring, policy.restoring_rules)
    codes = np.where(restore[:, None], restoring_codes, lowering_codes)  # HOLD keeps lowering codes only
    proposal = pd.DataFrame({
        "account_id": features["account_id"].to_numpy(),
        "action": action,
        "decrease_pct": decrease_pct,
        "is_security": (lowering & security).any(axis=1) if security.size else np.zeros(len(features), bool),
    })
    for k in range(MAX_REASONS):
        proposal[f"reason_{k + 1}"] = pd.array(codes[:, k], dtype="string")
    return proposal
