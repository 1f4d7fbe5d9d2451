-- The run's staging tables, and the score baselines' sums (a cache of the snapshots), that
-- PostgreSQL still writes to its write-ahead log: just created from sql/schema, or made by a
-- version before they were unlogged.
select relname as table_name
from pg_class
where relname in ('review_inputs', 'staged_decisions', 'staged_traces', 'score_baselines', 'score_baseline_nights')
  and relkind = 'r'
  and relpersistence = 'p'
  and pg_table_is_visible(oid)
