"""Rule conditions: a small, checkable language over account features.

A condition is comparisons of a feature with a number, joined by ``and`` / ``or`` with
parentheses: ``days_past_due > 5``, ``sim_change_events > 0 and password_reset_events > 0``.
Nothing else is accepted, which is what lets a policy be checked before it runs: every feature is
known, every threshold is inside its feature's range, a rule that can never be true is refused,
and each fired rule can show the values it compared (its trace).
"""

from __future__ import annotations

import ast
import math
import operator
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np
import pandas as pd

OPERATORS: dict[type, tuple[str, Callable]] = {
    ast.Lt: ("<", operator.lt), ast.LtE: ("<=", operator.le), ast.Gt: (">", operator.gt),
    ast.GtE: (">=", operator.ge), ast.Eq: ("==", operator.eq), ast.NotEq: ("!=", operator.ne),
}


class ConditionError(ValueError):
    """A condition outside the language, or naming what it may not."""


@dataclass(frozen=True)
class Check:
    """One comparison: ``feature op threshold``."""

    feature: str
    op: str
    threshold: float

    def __str__(self) -> str:
        return f"{self.feature} {self.op} {self.threshold:g}"

    def evaluate(self, values: np.ndarray) -> np.ndarray:
        compare = next(function for symbol, function in OPERATORS.values() if symbol == self.op)
        with np.errstate(invalid="ignore"):
            return compare(values, self.threshold) & ~np.isnan(values)


@dataclass(frozen=True)
class Condition:
    """A parsed condition: a tree of ``Check`` leaves under ``and`` / ``or`` nodes."""

    text: str
    tree: object  # Check | tuple[str, tuple[tree, ...]]

    @property
    def checks(self) -> list[Check]:
        found: list[Check] = []

        def walk(node):
            if isinstance(node, Check):
                found.append(node)
            else:
                for child in node[1]:
                    walk(child)

        walk(self.tree)
        return found

    @property
    def features(self) -> list[str]:
        return list(dict.fromkeys(check.feature for check in self.checks))

    def evaluate(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """True where the condition holds; a missing value makes its comparison false."""

        def walk(node):
            if isinstance(node, Check):
                return node.evaluate(columns[node.feature])
            parts = [walk(child) for child in node[1]]
            return np.logical_and.reduce(parts) if node[0] == "and" else np.logical_or.reduce(parts)

        return walk(self.tree)

    def normal_form(self) -> str:
        """A canonical text: the same condition written in another order gives the same text."""

        def walk(node):
            if isinstance(node, Check):
                return str(node)
            return "(" + f" {node[0]} ".join(sorted(walk(child) for child in node[1])) + ")"

        return walk(self.tree)

    def satisfiable(self, ranges: Mapping[str, tuple[float, float]]) -> bool:
        """Whether some values inside the features' ranges make the condition true (interval
        reasoning: exact for ``and`` of comparisons, and for ``or`` of such branches)."""

        def branches(node) -> list[list[Check]]:
            if isinstance(node, Check):
                return [[node]]
            if node[0] == "or":
                return [branch for child in node[1] for branch in branches(child)]
            combined: list[list[Check]] = [[]]
            for child in node[1]:
                combined = [left + right for left in combined for right in branches(child)]
            return combined

        return any(_conjunction_satisfiable(branch, ranges) for branch in branches(self.tree))


def _conjunction_satisfiable(checks: list[Check], ranges: Mapping[str, tuple[float, float]]) -> bool:
    bounds: dict[str, list] = {}
    for check in checks:
        low, high = ranges[check.feature]
        state = bounds.setdefault(check.feature, [low, True, high, True, set()])  # low, low_closed, high, high_closed, excluded
        value = check.threshold
        if check.op in (">", ">="):
            closed = check.op == ">="
            if value > state[0] or (value == state[0] and not closed):
                state[0], state[1] = value, closed
        elif check.op in ("<", "<="):
            closed = check.op == "<="
            if value < state[2] or (value == state[2] and not closed):
                state[2], state[3] = value, closed
        elif check.op == "==":
            if value > state[0] or (value == state[0] and not state[1]):
                state[0], state[1] = value, True
            if value < state[2] or (value == state[2] and not state[3]):
                state[2], state[3] = value, True
            if not (state[0] == value == state[2]):
                return False
        else:
            state[4].add(value)
    for low, low_closed, high, high_closed, excluded in bounds.values():
        if low > high or (low == high and not (low_closed and high_closed)):
            return False
        if low == high and low in excluded:
            return False
    return True


def parse(text: str, ranges: Mapping[str, tuple[float, float]], protected: frozenset[str] = frozenset()) -> Condition:
    """Parse and check ``text`` against the known features and their ranges."""
    if not isinstance(text, str) or not text.strip():
        raise ConditionError("a condition must be a non-empty text such as 'days_past_due > 5'")
    try:
        expression = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as error:
        raise ConditionError(f"{text!r} is not a condition: {error.msg}") from None

    def build(node):
        if isinstance(node, ast.BoolOp):
            kind = "and" if isinstance(node.op, ast.And) else "or"
            return (kind, tuple(build(value) for value in node.values))
        if isinstance(node, ast.Compare):
            if len(node.ops) != 1:
                raise ConditionError(f"{text!r}: write one comparison at a time, joined by 'and'")
            left, right, op = node.left, node.comparators[0], type(node.ops[0])
            if op not in OPERATORS:
                raise ConditionError(f"{text!r}: only < <= > >= == != compare a feature with a number")
            if not isinstance(left, ast.Name):
                raise ConditionError(f"{text!r}: the left side of a comparison must be a feature name")
            number = _number(right)
            if number is None:
                raise ConditionError(f"{text!r}: {left.id} must be compared with a number")
            return _check(left.id, OPERATORS[op][0], number)
        raise ConditionError(f"{text!r}: only comparisons joined by 'and' / 'or' are allowed")

    def _check(feature: str, op: str, threshold: float) -> Check:
        if feature in protected:
            raise ConditionError(f"{feature!r} is a protected attribute and may not drive a decision")
        if feature not in ranges:
            raise ConditionError(f"unknown feature {feature!r} (known: {', '.join(sorted(ranges))})")
        low, high = ranges[feature]
        if not (low <= threshold <= high):
            raise ConditionError(f"threshold {threshold:g} for {feature} is outside its range "
                                 f"{_show(low)}..{_show(high)}")
        return Check(feature, op, float(threshold))

    condition = Condition(text.strip(), build(expression))
    if not condition.satisfiable(ranges):
        raise ConditionError(f"{text!r} can never be true: the rule is unreachable")
    return condition


def _number(node) -> float | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _number(node.operand)
        return None if inner is None else -inner
    return None


def _show(value: float) -> str:
    return "∞" if value == math.inf else "-∞" if value == -math.inf else f"{value:g}"


def feature_arrays(frame: pd.DataFrame, names) -> dict[str, np.ndarray]:
    """The named feature columns as float arrays, missing values as NaN."""
    return {name: pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
            for name in names}
