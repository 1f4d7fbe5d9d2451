-- Reason codes of one run's decisions, counted over reason_1..reason_4, with the exposure the
-- decisions carrying each code moved (drawable limit after minus before, in fen).
-- Grain: one row per reason code. A code appears at most once per decision, so its count is the
-- number of accounts it was given to.
with

decisions as (
    select
        reason_1,
        reason_2,
        reason_3,
        reason_4,
        case when new_status = 'active' then new_limit_fen else 0 end
            - case when old_status = 'active' then old_limit_fen else 0 end as exposure_change_fen
    from staged_decisions
    where review_date = :review_date
      and run_mode = :run_mode
      and applies  -- the arm that decides each account
),

reasons as (
    select reason_1 as code, exposure_change_fen from decisions
    union all
    select reason_2 as code, exposure_change_fen from decisions
    union all
    select reason_3 as code, exposure_change_fen from decisions
    union all
    select reason_4 as code, exposure_change_fen from decisions
),

final as (
    select
        code,
        count(*) as accounts,
        cast(sum(exposure_change_fen) as bigint) as exposure_change_fen
    from reasons
    where code is not null
    group by code
)

select * from final
