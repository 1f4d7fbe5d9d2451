-- Clear one shard's staged_decisions of a run (shards.py: shard 0 of 1 is every account) before the
-- shard writes them again.
delete from staged_decisions
where review_date = :review_date
  and run_mode = :run_mode
  and ((abs(account_id) / :shard_block % 2147483647) * 950706376 % 2147483647) % :shard_count = :shard
