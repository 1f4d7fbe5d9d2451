-- For the rest of the apply transaction, on PostgreSQL: look keys up through the indexes. A
-- backfill asks, per account, whether a newer review decided it already; planned on statistics
-- that do not count the rows the shards before it wrote, a look-up could become a sequential
-- scan per row of a table that grows while the statement runs: quadratic (213 s at 100,000
-- accounts, when apply still looked each decision up before recording it). Through the primary
-- key each look-up stays logarithmic, whatever the statistics say.
set local enable_seqscan = off;
-- And compile nothing: the staged tables have no index, so their scans carry the cost that
-- disables a sequential scan, which puts the statement far over every JIT threshold. Compiling
-- and optimising it took 0.45 s of each apply shard's 3.0 s at 1,000,000 accounts, and the shard
-- ran 0.1 to 0.3 s faster without.
set local jit = off;
