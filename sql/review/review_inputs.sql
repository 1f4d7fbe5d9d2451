-- The staged inputs of one run's shard (shards.py: shard 0 of 1 is every account), for
-- reassess_accounts.
select *
from review_inputs
where review_date = :review_date
  and run_mode = :run_mode
  and ((abs(account_id) / :shard_block % 2147483647) * 950706376 % 2147483647) % :shard_count = :shard
order by account_id
