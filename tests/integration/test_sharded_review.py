"""The review split into shards: the same decisions as one piece, on SQLite and PostgreSQL; a
failed shard retries alone; the quality gate judges the whole book, not each shard."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from checks import keys_staged_twice, scalar
from conftest import FIRST_DATE, load_portfolio, reassessed_run, validated_run
from sqlalchemy import text

from post_loan_review import ledger, quality, reassess, stages
from post_loan_review.quality import QualityGateError
from post_loan_review.runs import ReviewRun
from post_loan_review.shards import Shard, shard_of

STAGED = {
    "staged_decisions": "account_id, arm",
    "staged_traces": "account_id, arm, step",
    "quality_results": "table_name, expectation",
    "quarantined_rows": "table_name, account_id, rule",
}


def _staged(engine) -> dict[str, pd.DataFrame]:
    with engine.connect() as conn:
        return {name: pd.read_sql(text(f"select * from {name} where run_mode = 'dry_run' order by {order}"), conn)
                for name, order in STAGED.items()}


def _plant_bad_scores(engine, account_ids) -> None:
    with engine.begin() as conn:
        conn.execute(text("update credit_score_snapshots set score = 2000 where snapshot_date = :d and account_id = :a"),
                     [{"d": FIRST_DATE, "a": int(a)} for a in account_ids])


def _account_ids(engine) -> np.ndarray:
    with engine.connect() as conn:
        return np.array([r[0] for r in conn.execute(text(
            "select account_id from credit_score_snapshots where snapshot_date = :d order by account_id"),
            {"d": FIRST_DATE})])


def test_three_shards_decide_exactly_what_one_piece_does(any_warehouse):
    load_portfolio(any_warehouse, accounts=6000)
    ids = _account_ids(any_warehouse)
    _plant_bad_scores(any_warehouse, ids[::400])  # a few quarantined rows, in every shard
    stages.review(FIRST_DATE, dry_run=True, shard_count=1)
    whole = _staged(any_warehouse)
    stages.review(FIRST_DATE, dry_run=True, shard_count=3)  # the re-run replaces every shard's rows
    split = _staged(any_warehouse)
    planted = whole["quarantined_rows"].query("rule == 'score_in_range'")
    assert sorted(planted["account_id"]) == sorted(ids[::400].tolist())
    for name in STAGED:
        pd.testing.assert_frame_equal(split[name], whole[name], obj=name)
    assert scalar(any_warehouse, "select count(distinct shard) from shard_quality_results where shard_count = 3") == 3


def test_the_database_puts_each_account_in_the_shard_numpy_computes(postgres_warehouse):
    load_portfolio(postgres_warehouse, accounts=3000)
    run = stages.resolve_review_date(FIRST_DATE, True, None, shard_count=5)
    stages.extract_snapshots(run)
    with postgres_warehouse.connect() as conn:
        staged = pd.read_sql(text("select account_id from review_inputs where run_mode = 'dry_run'"), conn)
    ids = staged["account_id"].to_numpy()
    from post_loan_review import db

    for shard in range(5):
        with postgres_warehouse.connect() as conn:
            got = db.read_frame(conn, "review/review_inputs", {"review_date": FIRST_DATE, "run_mode": "dry_run",
                                                               **Shard(shard, 5).params()})
        assert sorted(got["account_id"].tolist()) == sorted(ids[shard_of(ids, 5) == shard].tolist())


def _validated_run(shard_count: int) -> dict:
    return validated_run(FIRST_DATE, shard_count)


def test_a_failed_shard_leaves_the_others_committed_and_retries_alone(warehouse, monkeypatch):
    load_portfolio(warehouse, accounts=3000)
    run = _validated_run(3)
    real = reassess.reassess_accounts

    def dies_on_the_second_shard(conn, run_, policy, shard):
        result = real(conn, run_, policy, shard)  # its writes happen, then the worker fails
        if shard.index == 1:
            raise MemoryError("worker lost")
        return result

    monkeypatch.setattr(reassess, "reassess_accounts", dies_on_the_second_shard)
    stages.reassess_accounts(run, 0)
    with pytest.raises(MemoryError):
        stages.reassess_accounts(run, 1)
    stages.reassess_accounts(run, 2)
    with warehouse.connect() as conn:
        staged = np.array([r[0] for r in conn.execute(text("select account_id from review_inputs"))])
        decided = np.array([r[0] for r in conn.execute(text("select account_id from staged_decisions"))])
    assert sorted(decided.tolist()) == sorted(staged[shard_of(staged, 3) != 1].tolist())
    with pytest.raises(RuntimeError, match="accounts were staged but"):
        stages.check_portfolio(run)  # the breaker never judges a partial book

    monkeypatch.setattr(reassess, "reassess_accounts", real)
    stages.reassess_accounts(run, 1)  # the retry of the failed shard alone
    assert stages.check_portfolio(run)["accounts_reviewed"] == len(staged)
    assert scalar(warehouse, "select count(*) from staged_decisions") == len(staged)


def test_shards_run_again_or_split_otherwise_stage_each_decision_and_trace_once(any_warehouse):
    # the staging tables have no keys (sql/schema/10_staged_decisions.sql): each shard's delete
    # of its own rows is what keeps a second run of it, or a run of another split, from doubling them
    load_portfolio(any_warehouse, accounts=3000)
    three = validated_run(FIRST_DATE, 3)
    for shard in range(3):
        stages.reassess_accounts(three, shard)
    stages.reassess_accounts(three, 1)  # a committed shard cleared in the UI and run again
    two = {**three, "shard_count": 2, "shards": [0, 1]}  # a later run of the date split in two
    stages.reassess_accounts(two, 0)
    stages.reassess_accounts(two, 1)
    assert keys_staged_twice(any_warehouse, "staged_decisions", "account_id, arm") == 0
    assert keys_staged_twice(any_warehouse, "staged_traces", "account_id, arm, step") == 0
    assert scalar(any_warehouse, "select count(*) from staged_traces") > 0
    assert stages.check_portfolio(two)["accounts_reviewed"] == scalar(any_warehouse, "select count(*) from review_inputs")


def test_the_gate_judges_the_share_of_bad_rows_over_the_book_not_per_shard(warehouse):
    load_portfolio(warehouse, accounts=6000)
    ids = _account_ids(warehouse)
    shard_0 = ids[shard_of(ids, 3) == 0]
    bad = shard_0[: int(len(ids) * 0.008)]  # 0.8 % of the book, about 2.4 % of shard 1
    _plant_bad_scores(warehouse, bad)
    _validated_run(3)  # passes: the book is under the 1 % limit
    assert scalar(warehouse, """select success from shard_quality_results
        where shard = 0 and expectation = 'score_in_range'""") in (0, False)
    assert scalar(warehouse, "select success from quality_results where expectation = 'score_in_range'") in (1, True)
    assert scalar(warehouse, "select count(*) from quarantined_rows where rule = 'score_in_range'") == len(bad)

    _plant_bad_scores(warehouse, shard_0[len(bad): int(len(ids) * 0.012)])  # now 1.2 % of the book
    with pytest.raises(QualityGateError, match=r"credit_score_snapshots\.score broke row rule .*score_in_range"):
        _validated_run(3)


def test_the_gate_refuses_to_judge_before_every_shard_validated(warehouse):
    load_portfolio(warehouse, accounts=1000)
    run = stages.resolve_review_date(FIRST_DATE, False, None, shard_count=2)
    extracted = stages.extract_snapshots(run)
    stages.validate_snapshots(run, 0)
    with pytest.raises(RuntimeError, match="shard\\(s\\) 2 of 2 have no validation results"):
        stages.quality_gate(run, extracted["previous_snapshot_date"])


def _run_row(engine) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(text("select status, error_message, accounts_extracted from review_runs "
                                      "where run_mode = 'live'")).mappings().one())


def test_extract_committing_after_a_validation_shard_failed_leaves_the_run_failed(warehouse, monkeypatch):
    load_portfolio(warehouse, accounts=1000)
    run = stages.resolve_review_date(FIRST_DATE, False, None, shard_count=2)

    def unreadable(conn, run_, shard):
        raise ValueError("the repayment feed is unreadable")

    monkeypatch.setattr(quality, "validate_shard", unreadable)
    with pytest.raises(ValueError):
        stages.validate_snapshots(run, 1)
    stages.extract_snapshots(run)  # it ran beside the shard and commits after the failure
    row = _run_row(warehouse)
    assert row["status"] == "failed"
    assert row["error_message"] == "validate_snapshots[2/2]: the repayment feed is unreadable"
    assert row["accounts_extracted"] > 0  # its count is still recorded


def _reassessed_run(shard_count: int) -> dict:
    run = reassessed_run(FIRST_DATE, shard_count)
    stages.check_portfolio(run)
    return run


def test_each_apply_shard_writes_only_its_accounts_and_the_last_completes_the_date(any_warehouse):
    load_portfolio(any_warehouse, accounts=3000)
    run = _reassessed_run(3)
    stages.apply_limit_changes(run, 2)  # shards commit in any order
    with any_warehouse.connect() as conn:
        recorded = np.array([r[0] for r in conn.execute(text("select account_id from limit_decisions"))])
        changed = np.array([r[0] for r in conn.execute(text("select account_id from limit_ledger"))])
        noticed = np.array([r[0] for r in conn.execute(text("select account_id from notifications"))])
    assert len(recorded) and set(shard_of(recorded, 3)) == {2}
    assert len(changed) and set(shard_of(changed, 3)) == {2}
    assert sorted(noticed.tolist()) == sorted(changed.tolist())  # the notices commit with their shard
    for shard in (0, 1, 2):  # shard 3 again: a retry that finds its work done
        stages.apply_limit_changes(run, shard)
    stages.queue_notifications(run)
    staged = scalar(any_warehouse, "select count(*) from staged_decisions where run_mode = 'live'")
    assert scalar(any_warehouse, "select count(*) from limit_decisions") == staged
    changes = scalar(any_warehouse, """select count(*) from limit_decisions where is_applied
        and (new_limit_fen <> old_limit_fen or new_status <> old_status)""")
    assert scalar(any_warehouse, "select count(*) from limit_ledger") == changes
    assert scalar(any_warehouse, "select changes_applied from review_runs where run_mode = 'live'") == changes
    assert scalar(any_warehouse, "select notifications_queued from review_runs where run_mode = 'live'") == changes


def test_apply_shards_side_by_side_apply_the_whole_book_on_postgres(postgres_warehouse):
    """Two shards' apply transactions at once: neither deadlocks nor touches the other's accounts."""
    load_portfolio(postgres_warehouse, accounts=3000)
    run = _reassessed_run(2)
    with ThreadPoolExecutor(2) as workers:
        applied = list(workers.map(lambda shard: stages.apply_limit_changes(run, shard), run["shards"]))
    stages.queue_notifications(run)
    staged = scalar(postgres_warehouse, "select count(*) from staged_decisions where run_mode = 'live'")
    assert sum(shard["decisions_recorded"] for shard in applied) == staged
    assert all(shard["changes_applied"] > 0 for shard in applied)
    changes = sum(shard["changes_applied"] for shard in applied)
    assert scalar(postgres_warehouse, "select count(*) from limit_ledger") == changes
    assert scalar(postgres_warehouse, "select count(*) from notifications") == changes
    assert scalar(postgres_warehouse, "select count(*) from accounts where limit_set_by_review_date is not null") == changes


def test_an_apply_shard_commits_while_another_shard_is_still_open_on_postgres(postgres_warehouse, monkeypatch):
    """No apply shard waits for another's commit (an ANALYZE in apply would: it holds its table
    until commit). Shard 2/2 applies and stays open; shard 1/2's task, whose every lock wait fails
    after a second, applies and commits. The changes of the shard that committed without its
    notices get them from queue_notifications."""
    load_portfolio(postgres_warehouse, accounts=3000)
    run = _reassessed_run(2)
    url = postgres_warehouse.url.render_as_string(hide_password=False)
    monkeypatch.setenv("PLR_DATABASE_URL", f"{url}?options=-c%20lock_timeout%3D1000")
    with postgres_warehouse.connect() as still_open:
        with still_open.begin():
            counts, changes = ledger.apply_limit_changes(still_open, ReviewRun.from_xcom(run), Shard(1, 2))
            assert counts["changes_applied"] == len(changes) > 0
            applied = stages.apply_limit_changes(run, 0)  # raises LockNotAvailable if it waits
        assert applied["changes_applied"] == applied["notifications_queued"] > 0
    stages.apply_limit_changes(run, 1)  # the retry finds its decisions recorded: nothing more
    stages.queue_notifications(run)
    changes = scalar(postgres_warehouse, "select count(*) from limit_ledger")
    assert changes == applied["changes_applied"] + counts["changes_applied"]
    assert scalar(postgres_warehouse, "select count(*) from notifications") == changes
    assert scalar(postgres_warehouse, "select notifications_queued from review_runs where run_mode = 'live'") == changes


def test_an_apply_shard_committing_after_a_sibling_failed_leaves_the_run_failed_until_the_date_completes(
        warehouse, monkeypatch):
    load_portfolio(warehouse, accounts=2000)
    run = _reassessed_run(2)
    real = ledger.apply_limit_changes

    def second_shard_dies(conn, run_, shard):
        if shard.index == 1:
            raise MemoryError("worker lost")
        return real(conn, run_, shard)

    monkeypatch.setattr(ledger, "apply_limit_changes", second_shard_dies)
    with pytest.raises(MemoryError):
        stages.apply_limit_changes(run, 1)
    stages.apply_limit_changes(run, 0)
    assert _run_row(warehouse)["status"] == "failed"
    monkeypatch.setattr(ledger, "apply_limit_changes", real)
    stages.apply_limit_changes(run, 1)  # the retry
    stages.queue_notifications(run)  # every shard committed: the run's status moves on
    assert _run_row(warehouse)["status"] == "notified"
