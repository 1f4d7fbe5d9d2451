"""What changed between two policies, in words an analyst and a reviewer can read."""

from __future__ import annotations

from post_loan_review.policy import Policy, Rule

PARAMETERS = [  # (attribute, words, unit)
    ("floor_fen", "floor", "yuan"), ("max_decrease_pct", "largest cut per review", "%"),
    ("restore_step_pct", "restoration step", "% of the approved limit"),
    ("balance_buffer_pct", "balance buffer", "%"),
    ("cool_off_decrease_days", "cool-off between two cuts", "days"),
    ("cool_off_increase_days", "cool-off from a cut to a restoration", "days"),
    ("cool_off_restore_step_days", "cool-off between two restoration steps", "days"),
    ("security_window_days", "security-event window", "days"),
    ("income_window_days", "income-verification window", "days"),
    ("score_baseline_days", "score baseline window", "days"),
    ("evidence_min_on_time_months", "on-time months that prove ability to pay", "months"),
    ("evidence_income_verified", "verified income proves ability to pay", ""),
    ("guard_max_lowering_share_pct", "breaker: largest share of accounts lowered without approval", "%"),
    ("guard_max_exposure_change_pct", "breaker: largest exposure change without approval", "%"),
    ("guard_max_score_psi", "breaker: largest score drift (PSI) without approval", ""),
]


def _direction(old, new) -> str:
    if isinstance(old, bool) or isinstance(new, bool):
        return f"{old} -> {new}"
    return f"{old} -> {new} ({'raised' if new > old else 'lowered'})"


def _rule_changes(old: Rule, new: Rule) -> list[str]:
    changes = []
    if old.condition.normal_form() != new.condition.normal_form():
        changes.append(f"fires when '{new.condition.text}' instead of '{old.condition.text}'")
    if old.action != new.action:
        changes.append(f"action {old.action} -> {new.action}")
    if old.decrease_pct != new.decrease_pct:
        changes.append(f"cut {_direction(old.decrease_pct, new.decrease_pct)} %")
    if old.severity != new.severity:
        changes.append(f"severity {_direction(old.severity, new.severity)}, which changes its rank among reasons")
    if old.signal != new.signal:
        changes.append(f"signal {old.signal} -> {new.signal}")
    for kind in ("reason", "advice"):
        for language, text in getattr(new, kind).items():
            if getattr(old, kind)[language] != text:
                changes.append(f"{kind} text ({language}) now reads: {text}")
    return changes


def diff(old: Policy, new: Policy) -> list[str]:
    """One line per difference, parameters first, then rules removed, added and changed."""
    lines = [f"description now reads: {new.description}"] if old.description != new.description else []
    for attribute, words, unit in PARAMETERS:
        before, after = getattr(old, attribute), getattr(new, attribute)
        if attribute == "floor_fen":  # shown in yuan, as the policy file writes it
            before, after = before // 100, after // 100
        if before != after:
            lines.append(f"{words}: {_direction(before, after)} {unit}".rstrip())
    if old.restoration_requires.normal_form() != new.restoration_requires.normal_form():
        lines.append(f"restoration requires '{new.restoration_requires.text}' instead of "
                     f"'{old.restoration_requires.text}'")
    if old.challenger != new.challenger:
        lines.append(f"challenger: {old.challenger or 'none'} -> {new.challenger or 'none'}")
    old_rules = {rule.code: rule for rule in old.rules}
    new_rules = {rule.code: rule for rule in new.rules}
    for code in old_rules.keys() - new_rules.keys():
        lines.append(f"rule {code} removed (it fired on '{old_rules[code].when}')")
    for code in new_rules.keys() - old_rules.keys():
        rule = new_rules[code]
        lines.append(f"rule {code} added: {rule.action} when '{rule.when}'")
    for code in old_rules.keys() & new_rules.keys():
        lines += [f"rule {code}: {change}" for change in _rule_changes(old_rules[code], new_rules[code])]
    return sorted(lines, key=lambda line: (not line[0].islower() or line.startswith("rule "), line))
