-- Decisions of one run per policy arm and action, with whether that arm applied: the report's
-- champion / challenger table. Grain: one row per arm per policy version per action per applies.
with

decisions as (
    select arm, policy_version, action, applies, old_limit_fen, new_limit_fen, old_status, new_status
    from staged_decisions
    where review_date = :review_date
      and run_mode = :run_mode
),

final as (
    select
        arm,
        policy_version,
        action,
        case when applies then 1 else 0 end as applies,
        count(*) as accounts,
        sum(case when new_limit_fen <> old_limit_fen or new_status <> old_status then 1 else 0 end) as changes,
        sum(new_limit_fen - old_limit_fen) as limit_change_fen
    from decisions
    group by arm, policy_version, action, applies
)

select * from final order by arm, applies desc, action
