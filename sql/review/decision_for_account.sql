-- The decision of one account on one review date: the recorded live decision if there is one,
-- else the staged decision of the given run mode (a dry run is never recorded).
with

recorded as (
    select 'live' as run_mode, account_id, review_date, policy_version, action,
           old_limit_fen, new_limit_fen, old_status, new_status,
           reason_1, reason_2, reason_3, reason_4, guardrail, is_applied
    from limit_decisions
    where account_id = :account_id and review_date = :review_date and arm = 'champion'
),

staged as (
    select run_mode, account_id, review_date, policy_version, action,
           old_limit_fen, new_limit_fen, old_status, new_status,
           reason_1, reason_2, reason_3, reason_4, guardrail, null as is_applied
    from staged_decisions
    where account_id = :account_id and review_date = :review_date and run_mode = :run_mode
      and not exists (select 1 from recorded)
),

final as (
    select * from recorded
    union all
    select * from staged
)

select * from final
