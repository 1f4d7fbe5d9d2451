"""Shards: the book split into N parts by a stable hash of the account id, so the heavy stages
(validation, reassessment, apply) run as N independent tasks that Airflow's executor spreads over
workers, each holding one shard's rows in memory, and a failed shard retries alone.

Accounts go to shards in blocks of ``BLOCK`` consecutive ids: the block number ``|id| div BLOCK``
is hashed by one multiplicative step modulo the prime p = 2**31 - 1, ``(block mod p) * a mod p``
with a = 950706376 (a full-period multiplier from L'Ecuyer's tables; large, so that even small
numbers wrap around p and regular patterns still spread evenly), then ``mod N``. Blocks keep
neighbouring accounts together, so an apply shard writes into its own pages of the primary keys
and of ``accounts`` rather than into every page, which every shard did when single ids were
hashed (at 10,000,000 accounts, docs/performance.md); 64 ids still split sequential, every-fourth
and large ids evenly. The database computes it (``sql/`` filters on it, set-based, with no shard
column to keep up to date) exactly as numpy does here, in 64-bit integers that cannot overflow
(< 2**62). The same account is in the same shard of N in every run, backfill and table, so a
shard's snapshot rows, staged inputs, quarantined rows and decisions are always the same
accounts. (Snapshot rows without an account id fall in shard 0, so the quality gate still sees
them.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

HASH_MODULUS = 2_147_483_647  # 2**31 - 1, prime
HASH_MULTIPLIER = 950_706_376
BLOCK = 64  # consecutive account ids per block; bound as :shard_block in the SQL filters
MAX_SHARDS = 64


def check_shard_count(count: Any) -> int:
    """``count`` as an int in 1..MAX_SHARDS, or a ValueError that says why not."""
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_SHARDS:
        raise ValueError(f"shards must be a whole number from 1 to {MAX_SHARDS}, not {count!r}")
    return count


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count``; ``Shard(0, 1)`` is the whole book."""

    index: int = 0
    count: int = 1

    def __post_init__(self):
        check_shard_count(self.count)
        if not 0 <= self.index < self.count:
            raise ValueError(f"shard index must be in 0..{self.count - 1}, not {self.index}")

    @property
    def label(self) -> str:
        return f"{self.index + 1}/{self.count}"

    def params(self) -> dict[str, int]:
        """The bound parameters of a shard-filtered query of ``sql/``."""
        return {"shard": self.index, "shard_count": self.count, "shard_block": BLOCK}


WHOLE_BOOK = Shard(0, 1)


def all_shards(count: int) -> list[Shard]:
    return [Shard(index, count) for index in range(check_shard_count(count))]


def shard_of(account_ids: np.ndarray, count: int) -> np.ndarray:
    """The shard (0..count-1) of each account id, exactly as the SQL filter computes it."""
    blocks = np.abs(np.asarray(account_ids, dtype=np.int64)) // BLOCK
    return (blocks % HASH_MODULUS) * HASH_MULTIPLIER % HASH_MODULUS % check_shard_count(count)
