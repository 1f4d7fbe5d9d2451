-- Decisions of one run per policy arm and action, with whether that arm applied: the report's
-- champion / challenger table, from what each reassessment shard of the run's split counted.
-- Grain: one row per arm per policy version per action per applies.
with

counts as (
    select arm, policy_version, action, applies, accounts, changes, limit_change_fen
    from shard_decision_counts
    where review_date = :review_date
      and run_mode = :run_mode
      and shard_count = :shard_count
),

final as (
    select
        arm,
        policy_version,
        action,
        case when applies then 1 else 0 end as applies,
        cast(sum(accounts) as bigint) as accounts,
        cast(sum(changes) as bigint) as changes,
        cast(sum(limit_change_fen) as bigint) as limit_change_fen
    from counts
    group by arm, policy_version, action, applies
)

select * from final order by arm, applies desc, action
