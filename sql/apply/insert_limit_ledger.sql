-- Append one ledger row per applied change of one review date: a decision that moved the limit
-- or the status and was not superseded by a newer review. Never twice for a date. One shard
-- (shards.py) at a time; shard 0 of 1 is every account. The decisions are found through the
-- shard's staged changes (an index range) and the key of limit_decisions, not by reading every
-- decision of the date, which N shards would do N times. A decision recorded by an earlier run
-- of the date got its ledger row in that run's transaction, so this run's changes are the ones
-- that can still lack one.
insert into limit_ledger (
    account_id, review_date, policy_version, action,
    old_limit_fen, new_limit_fen, old_status, new_status, reason_1
)
select
    decisions.account_id, decisions.review_date, decisions.policy_version, decisions.action,
    decisions.old_limit_fen, decisions.new_limit_fen, decisions.old_status, decisions.new_status,
    decisions.reason_1
from staged_decisions as staged
join limit_decisions as decisions
  on decisions.account_id = staged.account_id
 and decisions.review_date = staged.review_date
 and decisions.arm = staged.arm
where staged.review_date = :review_date
  and staged.run_mode = 'live'
  and staged.applies
  and (staged.new_limit_fen <> staged.old_limit_fen or staged.new_status <> staged.old_status)
  and ((abs(staged.account_id) % 2147483647) * 950706376 % 2147483647) between :hash_low and :hash_high
  and decisions.is_applied
  and (decisions.new_limit_fen <> decisions.old_limit_fen or decisions.new_status <> decisions.old_status)
  and not exists (
      select 1 from limit_ledger as ledger
      where ledger.account_id = decisions.account_id
        and ledger.review_date = decisions.review_date
  )
