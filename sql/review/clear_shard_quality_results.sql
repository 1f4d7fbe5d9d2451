-- Clear one shard's expectation results of a run before the shard validates again.
delete from shard_quality_results
where review_date = :review_date
  and run_mode = :run_mode
  and shard_count = :shard_count
  and shard = :shard
