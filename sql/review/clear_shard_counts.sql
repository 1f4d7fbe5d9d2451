-- Clear one shard's counts of a run (shard_counts.py) before the shard counts its decisions again.
-- One delete per table, the same rule in each.
delete from shard_decision_counts
where review_date = :review_date
  and run_mode = :run_mode
  and shard_count = :shard_count
  and shard = :shard;

delete from shard_reason_counts
where review_date = :review_date
  and run_mode = :run_mode
  and shard_count = :shard_count
  and shard = :shard;

delete from shard_largest_changes
where review_date = :review_date
  and run_mode = :run_mode
  and shard_count = :shard_count
  and shard = :shard;
