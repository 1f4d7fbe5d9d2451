-- The credit-score snapshot rows of one date, each with its account id as found in accounts
-- (null when the snapshot names an unknown account), of one shard (shards.py), for validate_snapshots.
select
    scores.account_id,
    scores.snapshot_date,
    scores.score,
    scores.model_version,
    accounts.account_id as known_account_id
from credit_score_snapshots as scores
left join accounts on accounts.account_id = scores.account_id
where scores.snapshot_date = :snapshot_date
  and ((coalesce(abs(scores.account_id), 0) / :shard_block % 2147483647) * 950706376 % 2147483647) % :shard_count = :shard
