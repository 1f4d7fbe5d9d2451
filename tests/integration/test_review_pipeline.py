"""The whole review in-process (``plr review``), on SQLite and on the real PostgreSQL server: two
nights, a re-run, a dry run, a failed quality gate and a backfill, checked in the database."""

from __future__ import annotations

import pandas as pd
import pytest
from checks import OUTPUT_TABLES, check_night, scalar, table
from conftest import FIRST_DATE, SECOND_DATE, load_portfolio

from post_loan_review import stages
from post_loan_review.explain import explain
from post_loan_review.quality import QualityGateError


def test_two_nights_then_a_rerun_that_changes_nothing(any_warehouse):
    load_portfolio(any_warehouse, accounts=12_000)
    before = table(any_warehouse, "accounts")
    first = stages.review(FIRST_DATE)
    check_night(any_warehouse, FIRST_DATE)
    second = stages.review(SECOND_DATE)
    check_night(any_warehouse, SECOND_DATE)
    actions = set(table(any_warehouse, "limit_decisions")["action"])
    assert actions == {"DECREASE", "DECREASE_TO_FLOOR", "FREEZE", "RESTORE", "MANUAL_REVIEW", "HOLD"}

    # current limits are the last ledger value, untouched elsewhere
    after = table(any_warehouse, "accounts").set_index("account_id")
    ledger = table(any_warehouse, "limit_ledger").sort_values("review_date").groupby("account_id").last()
    assert (after.loc[ledger.index, "current_limit_fen"] == ledger["new_limit_fen"]).all()
    untouched = before.set_index("account_id").index.difference(ledger.index)
    assert (after.loc[untouched, "current_limit_fen"] == before.set_index("account_id").loc[untouched, "current_limit_fen"]).all()

    snapshot = {name: table(any_warehouse, name) for name in OUTPUT_TABLES}
    again = stages.review(SECOND_DATE)
    for name, frame in snapshot.items():
        pd.testing.assert_frame_equal(table(any_warehouse, name), frame, obj=name)
    assert again["actions"] == second["actions"]
    assert first["accounts_reviewed"] == second["accounts_reviewed"]


def test_a_dry_run_decides_and_reports_but_writes_no_limit_ledger_or_notice(warehouse):
    load_portfolio(warehouse, accounts=3000)
    before = table(warehouse, "accounts")
    summary = stages.review(SECOND_DATE, dry_run=True)
    assert summary["run_mode"] == "dry_run"
    assert sum(summary["actions"].values()) == summary["accounts_reviewed"] > 0
    assert scalar(warehouse, "select count(*) from staged_decisions where run_mode = 'dry_run'") == summary["accounts_reviewed"]
    for name in ("limit_decisions", "limit_ledger", "notifications"):
        assert scalar(warehouse, f"select count(*) from {name}") == 0, name
    pd.testing.assert_frame_equal(table(warehouse, "accounts"), before)
    html = open(summary["report_path"], encoding="utf-8").read()
    assert "DRY RUN" in html
    assert "Champion and challenger" not in html  # one arm: no experiment section


def test_a_broken_feed_stops_the_run_before_any_decision(warehouse):
    load_portfolio(warehouse, accounts=3000, bad_row_rate=0.05)
    before = table(warehouse, "accounts")
    with pytest.raises(QualityGateError) as failure:
        stages.review(SECOND_DATE)
    message = str(failure.value)
    assert "credit_score_snapshots.score" in message and "score_in_range" in message
    assert failure.value.retryable is False  # re-running cannot mend bad rows
    assert scalar(warehouse, "select count(*) from limit_decisions") == 0
    assert scalar(warehouse, "select count(*) from staged_decisions") == 0
    pd.testing.assert_frame_equal(table(warehouse, "accounts"), before)
    assert scalar(warehouse, "select status from review_runs where run_mode = 'live'") == "failed"
    assert scalar(warehouse, "select count(*) from quality_results where not success") >= 1


def test_a_backfill_records_decisions_but_never_overwrites_a_newer_limit(any_warehouse):
    load_portfolio(any_warehouse, accounts=6000)
    stages.review(SECOND_DATE)
    newer = table(any_warehouse, "accounts").set_index("account_id")
    stages.review(FIRST_DATE)  # the backfill of the night before
    after = table(any_warehouse, "accounts").set_index("account_id")
    set_by_newer = newer.index[newer["limit_set_by_review_date"].notna()]
    assert len(set_by_newer) > 0
    pd.testing.assert_series_equal(after.loc[set_by_newer, "current_limit_fen"], newer.loc[set_by_newer, "current_limit_fen"])
    superseded = scalar(any_warehouse, "select count(*) from limit_decisions where review_date = :d and not is_applied", d=FIRST_DATE)
    assert superseded > 0
    assert scalar(any_warehouse, """select count(*) from limit_ledger l join limit_decisions d
        on d.account_id = l.account_id and d.review_date = l.review_date where not d.is_applied""") == 0
    # a newer hold counts too: the backfill applies nothing to an account reviewed after it
    assert scalar(any_warehouse, "select count(*) from limit_ledger where review_date = :d", d=FIRST_DATE) == 0
    pd.testing.assert_frame_equal(after, newer)


def test_explain_names_the_reasons_and_the_values_behind_them(warehouse):
    load_portfolio(warehouse, accounts=3000)
    stages.review(SECOND_DATE)
    account_id = scalar(warehouse, """select account_id from limit_decisions
        where review_date = :d and reason_1 = 'REPAYMENT_OVERDUE' limit 1""", d=SECOND_DATE)
    with warehouse.connect() as conn:
        text_out = explain(conn, account_id, SECOND_DATE)
    assert f"Account {account_id}" in text_out
    assert "1. REPAYMENT_OVERDUE: your bill is currently overdue" in text_out
    assert "days_past_due = " in text_out and "days_past_due = 0" not in text_out
    with warehouse.connect() as conn, pytest.raises(LookupError, match="no decision for account 1 on"):
        explain(conn, 1, SECOND_DATE)


def test_sqlite_and_postgresql_reach_the_same_decisions(warehouse, postgres_warehouse, monkeypatch):
    decisions = {}
    for name, engine in (("sqlite", warehouse), ("postgres", postgres_warehouse)):
        monkeypatch.setenv("PLR_DATABASE_URL", engine.url.render_as_string(hide_password=False))
        load_portfolio(engine, accounts=4000)
        stages.review(SECOND_DATE)
        decisions[name] = table(engine, "limit_decisions")[
            ["account_id", "action", "old_limit_fen", "new_limit_fen", "reason_1", "reason_2", "guardrail"]]
    pd.testing.assert_frame_equal(decisions["sqlite"], decisions["postgres"])


def test_a_date_without_snapshots_stops_with_a_plain_message(warehouse):
    load_portfolio(warehouse, accounts=500)
    with pytest.raises(QualityGateError) as failure:
        stages.review("2026-11-28")
    assert "credit_score_snapshots broke critical rule snapshot_present: observed 0" in str(failure.value)
    assert ".nan" not in str(failure.value)
    assert failure.value.retryable is True  # the feed may still arrive


def test_every_recorded_decision_keeps_its_trace_once(any_warehouse):
    load_portfolio(any_warehouse, accounts=3000)
    stages.review(SECOND_DATE)
    staged = scalar(any_warehouse, "select count(*) from staged_traces where run_mode = 'live'")
    assert staged > 0
    assert scalar(any_warehouse, "select count(*) from decision_traces") == staged
    # each reason of a change is backed by a trace row of that rule
    assert scalar(any_warehouse, """select count(*) from limit_decisions d
        where d.is_applied and d.new_limit_fen <> d.old_limit_fen and not exists (
            select 1 from decision_traces t where t.account_id = d.account_id
              and t.review_date = d.review_date and t.arm = d.arm and t.code = d.reason_1)""") == 0
    stages.review(SECOND_DATE)
    assert scalar(any_warehouse, "select count(*) from decision_traces") == staged


def test_a_shadow_challenger_is_recorded_beside_the_champion_and_changes_nothing(any_warehouse, monkeypatch):
    import dataclasses

    from post_loan_review import policy as policy_module

    champion = dataclasses.replace(policy_module.load_policy("v1"),
                                   challenger=policy_module.Challenger("v2", 100, "shadow-test", "shadow"))
    monkeypatch.setattr(stages, "load_policy", lambda version: champion if version == "v1" else policy_module.load_policy(version))
    load_portfolio(any_warehouse, accounts=3000)
    summary = stages.review(SECOND_DATE)
    arms = table(any_warehouse, "limit_decisions").groupby("arm")
    assert set(arms.groups) == {"champion", "challenger"}
    assert arms.size()["champion"] == arms.size()["challenger"] == summary["accounts_reviewed"]
    assert scalar(any_warehouse, "select count(*) from limit_decisions where arm = 'challenger' and is_applied") == 0
    # every applied change is the champion's
    assert scalar(any_warehouse, """select count(*) from limit_ledger l join limit_decisions d
        on d.account_id = l.account_id and d.review_date = l.review_date and d.arm = 'champion'
        where d.new_limit_fen = l.new_limit_fen""") == scalar(any_warehouse, "select count(*) from limit_ledger") > 0
    check_night(any_warehouse, SECOND_DATE, arms=2)
    html = open(summary["report_path"], encoding="utf-8").read()
    assert "Champion and challenger" in html and "no (recorded only)" in html
    assert sum(summary["actions"].values()) == summary["accounts_reviewed"]  # applied decisions only
