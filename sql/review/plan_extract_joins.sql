-- For the rest of extract's transaction, on PostgreSQL: join the date's rows with merge joins.
-- Every input is one row per account, and a merge join of sorted inputs reads each once. The
-- planner's default, a hash join per table, spills every 1M-row join to disk in batches. At 1,000,000 accounts the insert took 13.2-14.8 s with merge joins against
-- 21.8-24.4 s with hash joins, and a larger work_mem did not change either figure
-- (docs/performance.md).
set local enable_hashjoin = off
