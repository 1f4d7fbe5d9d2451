-- Every shard's expectation results of a run split into so many shards, for the quality gate.
-- Grain: one row per shard per table per expectation.
select
    shard,
    table_name,
    expectation,
    column_name,
    severity,
    success,
    unexpected_count,
    element_count,
    missing_count,
    error
from shard_quality_results
where review_date = :review_date
  and run_mode = :run_mode
  and shard_count = :shard_count
order by table_name, expectation, shard
