"""The extract in parts: plan_extract splits the book into ranges of consecutive account ids and
each extract_snapshots task stages one. Together they stage exactly what one statement over the
whole book stages; a failed part leaves the others committed and retries alone; the gate records
the accounts staged only once every part is in."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from checks import scalar
from conftest import FIRST_DATE, SECOND_DATE, extracted_run, load_portfolio
from sqlalchemy import text

from post_loan_review import snapshots, stages
from post_loan_review.snapshots import LARGEST_ID, SMALLEST_ID
from post_loan_review.staging import StagingLostError


def _account_ids(engine) -> np.ndarray:
    with engine.connect() as conn:
        return np.array([row[0] for row in conn.execute(text("select account_id from accounts"))], dtype=np.int64)


def _staged_inputs(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(text("select * from review_inputs where run_mode = 'dry_run' order by account_id"), conn)


def _ranges(engine, run: dict, part_count: int) -> list[list[int]]:
    with engine.connect() as conn:
        return [list(row) for row in conn.execute(text(
            "select first_account_id, last_account_id from extract_account_ranges where review_date = :d "
            "and run_mode = :m and part_count = :n order by part"),
            {"d": run["review_date"], "m": run["run_mode"], "n": part_count})]


def test_the_ranges_hold_every_account_once_and_about_as_many_each(any_warehouse):
    load_portfolio(any_warehouse, accounts=1003)
    ids = _account_ids(any_warehouse)
    run = stages.resolve_review_date(FIRST_DATE, True, None, shard_count=4)
    plan = stages.plan_extract(run)
    assert set(plan) == {"previous_snapshot_date", "score_baselines", "part_count", "staging"}  # no account id
    ranges = _ranges(any_warehouse, run, 4)
    assert ranges[0][0] == SMALLEST_ID and ranges[-1][1] == LARGEST_ID  # an id added later is in one too
    assert all(following[0] == preceding[1] + 1 for preceding, following in zip(ranges, ranges[1:]))
    counts = [int(((ids >= first) & (ids <= last)).sum()) for first, last in ranges]
    assert sum(counts) == len(ids) == 1003
    assert max(counts) - min(counts) <= 1
    stages.plan_extract(run)  # a re-run of the plan draws them again, once
    assert _ranges(any_warehouse, run, 4) == ranges


def test_a_book_of_fewer_accounts_than_parts_leaves_the_last_parts_empty(any_warehouse):
    load_portfolio(any_warehouse, accounts=40)
    run = stages.resolve_review_date(FIRST_DATE, True, None, shard_count=64)
    plan = stages.plan_extract(run)
    assert [first for first, _ in _ranges(any_warehouse, run, 64)[1:]] == sorted(_account_ids(any_warehouse))[1:]
    assert stages.extract_snapshots(run, plan, 63) == {"part": "64/64", "accounts_extracted": 0}
    assert sum(stages.extract_snapshots(run, plan, part)["accounts_extracted"] for part in range(64)) == scalar(
        any_warehouse, "select count(*) from review_inputs")


def test_the_parts_stage_exactly_what_one_statement_over_the_book_does(any_warehouse):
    load_portfolio(any_warehouse, accounts=3000)
    stages.review(SECOND_DATE)  # limits moved after the first night: its inputs are rebuilt from the ledger
    whole = stages.resolve_review_date(FIRST_DATE, True, None, shard_count=1)
    extracted_run(whole)
    in_one = _staged_inputs(any_warehouse)
    split = stages.resolve_review_date(FIRST_DATE, True, None, shard_count=5)
    plan, parts = extracted_run(split)  # replaces the run's staged inputs range by range
    in_five = _staged_inputs(any_warehouse)

    assert plan["part_count"] == 5 and all(part["accounts_extracted"] > 0 for part in parts)
    assert sum(part["accounts_extracted"] for part in parts) == len(in_one) > 2500
    assert scalar(any_warehouse, """select count(*) from review_inputs as staged join accounts using (account_id)
        where staged.run_mode = 'dry_run' and staged.old_limit_fen <> accounts.current_limit_fen""") > 0
    pd.testing.assert_frame_equal(in_five, in_one)
    assert scalar(any_warehouse, "select status from review_runs where run_mode = 'dry_run'") == "extracting"


def test_a_failed_part_leaves_the_others_committed_and_retries_alone(any_warehouse, monkeypatch):
    load_portfolio(any_warehouse, accounts=3000)
    run = stages.resolve_review_date(FIRST_DATE, False, None, shard_count=3)
    plan = stages.plan_extract(run)
    real = snapshots.extract_part

    def dies_on_the_second_part(conn, run_, policy, plan_, part):
        staged = real(conn, run_, policy, plan_, part)  # its rows are written, then the worker fails
        if part == 1:
            raise MemoryError("worker lost")
        return staged

    monkeypatch.setattr(snapshots, "extract_part", dies_on_the_second_part)
    results = [stages.extract_snapshots(run, plan, 0)]
    with pytest.raises(MemoryError):
        stages.extract_snapshots(run, plan, 1)
    results.append(stages.extract_snapshots(run, plan, 2))
    first, last = _ranges(any_warehouse, run, 3)[1]
    between = f"from review_inputs where account_id between {first} and {last}"
    assert scalar(any_warehouse, f"select count(*) {between}") == 0  # rolled back, alone
    assert scalar(any_warehouse, "select count(*) from review_inputs") == sum(r["accounts_extracted"] for r in results)

    monkeypatch.setattr(snapshots, "extract_part", real)
    results.insert(1, stages.extract_snapshots(run, plan, 1))  # the retry of the failed part alone
    assert results[1]["accounts_extracted"] == scalar(any_warehouse, f"select count(*) {between}") > 0
    for shard in run["shards"]:
        stages.validate_snapshots(run, shard)
    stages.quality_gate(run, plan, results)
    staged = scalar(any_warehouse, "select count(*) from review_inputs")
    assert scalar(any_warehouse, "select accounts_extracted from review_runs") == staged
    assert staged == len(_account_ids(any_warehouse)) - scalar(any_warehouse,
                                                               "select count(*) from accounts where status = 'closed'")


def test_a_part_whose_score_sums_are_gone_stops_and_writes_nothing(any_warehouse):
    load_portfolio(any_warehouse, accounts=500)
    run = stages.resolve_review_date(FIRST_DATE, False, None, shard_count=2)
    plan = stages.plan_extract(run)
    with any_warehouse.begin() as conn:  # what a crash of PostgreSQL or a later night's pruning leaves
        conn.execute(text("delete from score_baseline_nights"))
        conn.execute(text("delete from score_baselines"))
    with pytest.raises(StagingLostError, match=rf"extract_snapshots {FIRST_DATE} \(live\): the score baselines "
                                               r"plan_extract summed .* Re-run the review of .* from plan_extract"):
        stages.extract_snapshots(run, plan, 0)
    assert scalar(any_warehouse, "select count(*) from review_inputs") == 0
    stages.plan_extract(run)  # the re-run the message asks for sums the night again
    assert stages.extract_snapshots(run, plan, 0)["accounts_extracted"] > 0
