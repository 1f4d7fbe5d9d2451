-- The repayment snapshot rows of one date, each with its account id as found in accounts
-- (null when the snapshot names an unknown account), of one shard (shards.py), for validate_snapshots.
select
    repayments.*,
    accounts.account_id as known_account_id
from repayment_snapshots as repayments
left join accounts on accounts.account_id = repayments.account_id
where repayments.snapshot_date = :snapshot_date
  and ((coalesce(abs(repayments.account_id), 0) / :shard_block % 2147483647) * 950706376 % 2147483647) % :shard_count = :shard
