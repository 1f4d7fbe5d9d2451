-- The decisions of one account on one review date, one per arm, the applied arm first: the
-- recorded live decisions if there are any, else the staged decisions of the given run mode
-- (a dry run is never recorded).
with

recorded as (
    select 'live' as run_mode, account_id, review_date, arm, policy_version, action,
           old_limit_fen, new_limit_fen, old_status, new_status,
           reason_1, reason_2, reason_3, reason_4, guardrail, is_applied
    from limit_decisions
    where account_id = :account_id and review_date = :review_date
),

staged as (
    select run_mode, account_id, review_date, arm, policy_version, action,
           old_limit_fen, new_limit_fen, old_status, new_status,
           reason_1, reason_2, reason_3, reason_4, guardrail, applies as is_applied
    from staged_decisions
    where account_id = :account_id and review_date = :review_date and run_mode = :run_mode
      and not exists (select 1 from recorded)
),

final as (
    select * from recorded
    union all
    select * from staged
)

select * from final order by is_applied desc, arm
