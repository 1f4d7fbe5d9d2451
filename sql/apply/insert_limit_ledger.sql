-- Append one ledger row per applied change of one review date: a decision that moved the limit
-- or the status and was not superseded by a newer review. Never twice for a date. One shard
-- (shards.py) at a time; shard 0 of 1 is every account. SQLite's step (see apply_shard_postgres).
insert into limit_ledger (
    account_id, review_date, policy_version, action,
    old_limit_fen, new_limit_fen, old_status, new_status, reason_1
)
select
    decisions.account_id, decisions.review_date, decisions.policy_version, decisions.action,
    decisions.old_limit_fen, decisions.new_limit_fen, decisions.old_status, decisions.new_status,
    decisions.reason_1
from limit_decisions as decisions
where decisions.review_date = :review_date
  and decisions.is_applied
  and ((abs(decisions.account_id) / :shard_block % 2147483647) * 950706376 % 2147483647) % :shard_count = :shard
  and (decisions.new_limit_fen <> decisions.old_limit_fen or decisions.new_status <> decisions.old_status)
  and not exists (
      select 1 from limit_ledger as ledger
      where ledger.account_id = decisions.account_id
        and ledger.review_date = decisions.review_date
  )
