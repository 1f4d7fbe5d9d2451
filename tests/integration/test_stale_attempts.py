"""A stale attempt cannot commit: an older attempt of a stage that wakes up after a newer attempt
took over (a zombie worker, a cleared task) has its writes refused and rolled back, not merged."""

from __future__ import annotations

import pytest
from checks import checksums, keys_staged_twice, scalar
from conftest import SECOND_DATE, load_portfolio, reassessed_run, validated_run

from post_loan_review import ledger, reassess, runs, stages


def prepare(engine):
    load_portfolio(engine, accounts=1500)
    return reassessed_run(SECOND_DATE)


def test_an_attempt_overtaken_while_asleep_is_refused_and_writes_nothing(any_warehouse, monkeypatch):
    run_xcom = prepare(any_warehouse)
    real_apply = ledger.apply_limit_changes
    calls = []

    def apply_with_a_newer_attempt_in_between(conn, run, shard):
        calls.append(run)
        if len(calls) == 1:  # attempt 1 claimed the shard and fell asleep; attempt 2 runs to the end
            stages.apply_limit_changes(run_xcom, 0, attempt="try-2")
        return real_apply(conn, run, shard)

    monkeypatch.setattr(ledger, "apply_limit_changes", apply_with_a_newer_attempt_in_between)
    with pytest.raises(runs.StaleAttemptError, match="attempt try-1 was overtaken by a newer attempt"):
        stages.apply_limit_changes(run_xcom, 0, attempt="try-1")
    monkeypatch.setattr(ledger, "apply_limit_changes", real_apply)

    changes = scalar(any_warehouse, "select count(*) from limit_ledger")
    assert changes > 0
    assert changes == scalar(any_warehouse, """select count(*) from limit_decisions where is_applied
        and (new_limit_fen <> old_limit_fen or new_status <> old_status)""")
    assert scalar(any_warehouse, "select committed_attempt_id from stage_attempts where stage = 'apply_limit_changes[1/4]'") == "try-2"
    assert scalar(any_warehouse, "select status from review_runs") == "applied"  # the stale attempt did not mark it failed


def test_two_attempts_of_a_reassessment_shard_at_once_stage_one_decision_each_on_postgres(
        postgres_warehouse, monkeypatch):
    # staged_decisions has no key to make the second attempt wait for the first: the first has
    # written its decisions and not committed when the second runs to the end, and the first is
    # refused at its confirm, so only the second attempt's rows remain
    load_portfolio(postgres_warehouse, accounts=1500)
    run_xcom = validated_run(SECOND_DATE, 2)
    real_reassess = reassess.reassess_accounts
    calls = []

    def reassess_with_a_newer_attempt_after_the_writes(conn, run, policy, shard):
        result = real_reassess(conn, run, policy, shard)
        calls.append(shard)
        if len(calls) == 1:
            stages.reassess_accounts(run_xcom, shard.index, attempt="try-2")
        return result

    monkeypatch.setattr(reassess, "reassess_accounts", reassess_with_a_newer_attempt_after_the_writes)
    with pytest.raises(runs.StaleAttemptError, match="attempt try-1 was overtaken by a newer attempt"):
        stages.reassess_accounts(run_xcom, 0, attempt="try-1")
    monkeypatch.setattr(reassess, "reassess_accounts", real_reassess)
    stages.reassess_accounts(run_xcom, 1)

    assert keys_staged_twice(postgres_warehouse, "staged_decisions", "account_id, arm") == 0
    assert stages.check_portfolio(run_xcom)["accounts_reviewed"] == scalar(
        postgres_warehouse, "select count(*) from review_inputs")


def test_a_retry_after_a_finished_attempt_commits_nothing_new(warehouse):
    run_xcom = prepare(warehouse)
    stages.apply_limit_changes(run_xcom, 0, attempt="try-1")
    before = checksums(warehouse)
    stages.apply_limit_changes(run_xcom, 0, attempt="try-2")  # a retry claims the stage and finds nothing to do
    assert checksums(warehouse) == before
