-- Decisions of one run counted by action and guardrail, with the exposure they carry.
-- Grain: one row per action per guardrail (guardrail null when none shaped the decision).
-- Exposure is the limit a customer can draw: the limit of an active account, in fen.
with

decisions as (
    select
        action,
        guardrail,
        old_limit_fen,
        new_limit_fen,
        old_status,
        new_status
    from staged_decisions
    where review_date = :review_date
      and run_mode = :run_mode
      and applies  -- the arm that decides each account
),

measured as (
    select
        action,
        guardrail,
        -- exposure, in fen
        case when old_status = 'active' then old_limit_fen else 0 end as exposure_before_fen,
        case when new_status = 'active' then new_limit_fen else 0 end as exposure_after_fen,
        -- a change moves the limit or the status
        case when new_limit_fen <> old_limit_fen or new_status <> old_status then 1 else 0 end as is_change
    from decisions
),

final as (
    select
        action,
        guardrail,
        count(*) as accounts,
        cast(sum(is_change) as bigint) as changes,
        cast(sum(exposure_before_fen) as bigint) as exposure_before_fen,
        cast(sum(exposure_after_fen) as bigint) as exposure_after_fen
    from measured
    group by action, guardrail
)

select * from final
