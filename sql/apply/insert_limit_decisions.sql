-- Record the live decisions of one review date. A decision is written once: a re-run of the
-- date finds it already there and inserts nothing. is_applied: the arm that decides the account,
-- unless a newer review already decided it, whatever it decided (a backfill records its decision
-- and changes nothing). One shard (shards.py) at a time; shard 0 of 1 is every account.
-- SQLite's step; PostgreSQL does this, the ledger and the limits in apply_shard_postgres.
insert into limit_decisions (
    account_id, review_date, arm, policy_version, action,
    old_limit_fen, new_limit_fen, old_status, new_status,
    reason_1, reason_2, reason_3, reason_4, guardrail,
    score, score_drop, days_past_due, min_payment_only_months, spend_ratio, largest_txn_ratio,
    days_since_last_txn, security_events, inquiries_30d, on_time_full_payment_months,
    verified_monthly_income_fen, is_applied
)
select
    staged.account_id, staged.review_date, staged.arm, staged.policy_version, staged.action,
    staged.old_limit_fen, staged.new_limit_fen, staged.old_status, staged.new_status,
    staged.reason_1, staged.reason_2, staged.reason_3, staged.reason_4, staged.guardrail,
    staged.score, staged.score_drop, staged.days_past_due, staged.min_payment_only_months,
    staged.spend_ratio, staged.largest_txn_ratio, staged.days_since_last_txn,
    staged.security_events, staged.inquiries_30d, staged.on_time_full_payment_months,
    staged.verified_monthly_income_fen,
    staged.applies and newer.account_id is null as is_applied
from staged_decisions as staged
left join (  -- a newer review decided the account already: a backfill changes nothing
    -- (the newer dates' rows, one range of the key; a night has none)
    select distinct account_id from limit_decisions where review_date > :review_date
) as newer on newer.account_id = staged.account_id
where staged.review_date = :review_date
  and staged.run_mode = 'live'
  and ((abs(staged.account_id) / :shard_block % 2147483647) * 950706376 % 2147483647) % :shard_count = :shard
  and not exists (
      select 1 from limit_decisions as recorded
      where recorded.account_id = staged.account_id
        and recorded.review_date = staged.review_date
        and recorded.arm = staged.arm
  )
