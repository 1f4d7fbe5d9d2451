"""queue_notifications: the customer notice of every applied change, rendered from templates in
zh-CN (the default) and en, and queued in the ``notifications`` outbox exactly once."""

from __future__ import annotations

import functools
import string

import pandas as pd
import yaml
from sqlalchemy import Connection

from post_loan_review import db
from post_loan_review.config import TEMPLATE_DIR
from post_loan_review.money import yuan_column
from post_loan_review.policy import MAX_REASONS, Policy, load_policy
from post_loan_review.runs import ReviewRun
from post_loan_review.shards import WHOLE_BOOK, Shard

DEFAULT_LANGUAGE = "zh-CN"
CHANNEL = "app"  # in-app message with push; the sender picks the transport


@functools.cache
def load_templates(language: str) -> dict:
    path = TEMPLATE_DIR / "notifications" / f"{language}.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"no notification templates for language {language!r}: {path}")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _fill(template: str, fields: dict[str, pd.Series | str], index: pd.Index) -> pd.Series:
    """``template`` with ``{name}`` placeholders filled column-wise for every row at once."""
    text = pd.Series("", index=index, dtype="string")
    for literal, name, _spec, _conversion in string.Formatter().parse(template):
        text = text + literal
        if name is not None:
            if name not in fields:
                raise KeyError(f"template placeholder {{{name}}} is not one of {sorted(fields)}")
            text = text + fields[name]
    return text


def _rules(policy: Policy) -> list:
    """The rules whose texts a run's notices may need: the policy's and its challenger's."""
    rules = list(policy.rules)
    if policy.challenger is not None:
        rules = list(load_policy(policy.challenger.policy).rules) + rules  # the run's own policy wins
    return rules


def render(changes: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """One notice per change: ``title`` and ``body`` in the account's language. ``changes`` has
    account_id, review_date, action, old/new_limit_fen, reason_1..4 and language."""
    pieces = []
    rules = _rules(policy)
    for language, group in changes.groupby("language", sort=False):
        templates = load_templates(language)
        reason_text = {rule.code: rule.reason[language] for rule in rules}
        advice_text = {rule.code: rule.advice[language] for rule in rules}
        reasons = [group[f"reason_{k + 1}"].map(reason_text).fillna("").astype("string")
                   for k in range(MAX_REASONS)]
        joined = reasons[0]
        for more in reasons[1:]:
            joined = joined + more.where(more == "", templates["reason_separator"] + more)
        first_advice = group["reason_1"].map(advice_text).fillna("").astype("string")
        second_advice = group["reason_2"].map(advice_text).fillna("").astype("string")
        extra = (" " + second_advice).where((second_advice != "") & (second_advice != first_advice), "")
        advice = first_advice + extra
        fields = {
            "review_date": pd.to_datetime(group["review_date"]).dt.strftime("%Y-%m-%d").astype("string"),
            "old_limit": pd.Series(yuan_column(group["old_limit_fen"]).to_numpy(), index=group.index),
            "new_limit": pd.Series(yuan_column(group["new_limit_fen"]).to_numpy(), index=group.index),
            "reasons": joined,
            "advice": advice,
        }
        for action, rows in group.groupby("action", sort=False):
            template = templates["actions"].get(action)
            if template is None:
                raise KeyError(f"{language} templates have no notice for action {action}")
            row_fields = {name: value.loc[rows.index] for name, value in fields.items()}
            pieces.append(pd.DataFrame({
                "account_id": rows["account_id"],
                "review_date": rows["review_date"],
                "language": language,
                "action": action,
                "title": template["title"],
                "body": _fill(template["body"], row_fields, rows.index) + " " + templates["appeal"],
            }))
    if not pieces:
        return pd.DataFrame(columns=["account_id", "review_date", "language", "action", "title", "body"])
    return pd.concat(pieces).sort_values("account_id", ignore_index=True)


def queue_notifications(conn: Connection, run: ReviewRun, policy: Policy, shard: Shard = WHOLE_BOOK,
                        changes: pd.DataFrame | None = None) -> int:
    """Render and queue the notices of the run's applied changes (of one shard) that have none
    yet; the number queued. A re-run queues nothing twice: the key is review date, account and
    channel. ``changes``: the changes just appended in this transaction (``ledger.CHANGE_COLUMNS``),
    none of which can have a notice yet; without them, they are read from the ledger."""
    if changes is None:
        changes = _changes_without_notification(conn, run, shard)
    if changes.empty:
        return 0
    unknown = ~changes["language"].isin(["zh-CN", "en"])
    changes.loc[unknown, "language"] = DEFAULT_LANGUAGE
    notices = render(changes, policy)
    notices.insert(0, "notification_key", notices["review_date"].dt.strftime("%Y-%m-%d") + ":"
                   + notices["account_id"].astype(str) + ":" + CHANNEL)
    notices["channel"] = CHANNEL
    notices["status"] = "queued"
    return db.bulk_insert(conn, "notifications", notices)


def _changes_without_notification(conn: Connection, run: ReviewRun, shard: Shard) -> pd.DataFrame:
    # the notices of the shards committed since the tables were last analyzed: without them the
    # planner reads every notice of the date once per change (200 s at 1,000,000 accounts)
    db.refresh_statistics(conn, "limit_decisions", "limit_ledger", "notifications")
    return db.read_frame(conn, "notify/changes_without_notification",
                         {"review_date": run.review_date, "channel": CHANNEL, **shard.params()},
                         date_columns=("review_date",))
