-- Reason codes of one run's decisions, counted over reason_1..reason_4.
-- Grain: one row per reason code. A code appears at most once per decision, so its count is the
-- number of accounts it was given to.
with

decisions as (
    select reason_1, reason_2, reason_3, reason_4
    from staged_decisions
    where review_date = :review_date
      and run_mode = :run_mode
      and applies  -- the arm that decides each account
),

reasons as (
    select reason_1 as code from decisions
    union all
    select reason_2 as code from decisions
    union all
    select reason_3 as code from decisions
    union all
    select reason_4 as code from decisions
),

final as (
    select
        code,
        count(*) as accounts
    from reasons
    where code is not null
    group by code
)

select * from final
