"""Shards: a stable split of the book that the database and numpy compute alike."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import create_engine, text

from post_loan_review.db import load_sql
from post_loan_review.shards import MAX_SHARDS, Shard, all_shards, check_shard_count, shard_of


def test_known_accounts_keep_their_shard():
    # pinned: a change of the hash moves accounts between shards, so every stage of a run in
    # flight during the upgrade must use the same version (blocks of 64 since 2026-11-29)
    assert shard_of(np.array([1, 2, 1_000_000_001, 10**15]), 4).tolist() == [0, 0, 3, 3]
    assert shard_of(np.array([1, 2, 1_000_000_001, 10**15]), 7).tolist() == [0, 0, 6, 4]


def test_blocks_of_consecutive_ids_share_a_shard():
    ids = np.arange(640, 640 + 64 * 40)
    shards = shard_of(ids, 8).reshape(40, 64)
    assert (shards == shards[:, :1]).all()  # each block of 64 in one shard
    assert len(set(shards[:, 0].tolist())) == 8  # and the blocks spread over every shard
    assert (shard_of(np.array([-130, 130]), 8) == shard_of(np.array([130, 130]), 8)).all()  # by |id|


@pytest.mark.parametrize("ids", [np.arange(1, 100_001), np.arange(4, 400_001, 4), np.arange(10**12, 10**12 + 100_000)],
                         ids=["sequential", "every fourth", "large"])
@pytest.mark.parametrize("count", [2, 3, 4, 8])
def test_shards_are_balanced_for_regular_id_patterns(ids, count):
    sizes = np.bincount(shard_of(ids, count), minlength=count)
    assert sizes.min() >= 0.97 * len(ids) / count, sizes


def test_one_shard_is_the_whole_book():
    assert (shard_of(np.arange(1, 1000), 1) == 0).all()
    assert all_shards(1) == [Shard(0, 1)]
    assert [s.label for s in all_shards(3)] == ["1/3", "2/3", "3/3"]


def test_the_sql_filter_puts_each_account_in_the_shard_numpy_computes():
    """The expression of sql/review/review_inputs.sql, run by SQLite, against shard_of; the
    PostgreSQL side is checked in tests/integration/test_sharded_review.py."""
    rng = np.random.default_rng(5)
    ids = np.concatenate([rng.integers(1, 10**15, 2000), [-7, 63, 64, -64, -65, 2_147_483_647, 2_147_483_648],
                          np.arange(10**12 - 200, 10**12 + 200)])
    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        conn.exec_driver_sql("create table review_inputs (review_date date, run_mode text, account_id bigint)")
        conn.execute(text("insert into review_inputs values ('2026-11-27', 'live', :id)"),
                      [{"id": int(i)} for i in ids])
        for count in (1, 3, 8):
            for shard in range(count):
                got = conn.execute(text(load_sql("review/review_inputs")), {
                    "review_date": "2026-11-27", "run_mode": "live", **Shard(shard, count).params()}).all()
                assert sorted(r.account_id for r in got) == sorted(ids[shard_of(ids, count) == shard].tolist())


@pytest.mark.parametrize("bad", [0, MAX_SHARDS + 1, "4", True, 2.0, None])
def test_a_bad_shard_count_is_refused_with_the_rule(bad):
    with pytest.raises(ValueError, match=f"whole number from 1 to {MAX_SHARDS}"):
        check_shard_count(bad)


def test_a_shard_index_outside_the_count_is_refused():
    with pytest.raises(ValueError, match="shard index must be in 0..2"):
        Shard(3, 3)
