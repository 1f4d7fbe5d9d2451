-- The changes of one run that removed the most drawable exposure, restorations last: examples
-- for the report, which masks their account ids.
-- Grain: one row per changed account, at most 10.
with

decisions as (
    select
        account_id,
        action,
        old_limit_fen,
        new_limit_fen,
        old_status,
        new_status,
        reason_1,
        reason_2,
        guardrail
    from staged_decisions
    where review_date = :review_date
      and run_mode = :run_mode
      and applies  -- the arm that decides each account
      and (new_limit_fen <> old_limit_fen or new_status <> old_status)
),

measured as (
    select
        decisions.*,
        (case when old_status = 'active' then old_limit_fen else 0 end)
            - (case when new_status = 'active' then new_limit_fen else 0 end) as exposure_removed_fen
    from decisions
),

final as (
    select *
    from measured
    order by exposure_removed_fen desc, account_id
    limit 10
)

select * from final
order by exposure_removed_fen desc, account_id
