-- The changes of one run that removed the most drawable exposure, restorations last: examples
-- for the report, which masks their account ids. Each reassessment shard of the run's split kept
-- its own ten (shard_counts.py), so the run's ten are among them.
-- Grain: one row per changed account, at most 10.
with

changes as (
    select
        account_id,
        action,
        old_limit_fen,
        new_limit_fen,
        old_status,
        new_status,
        reason_1,
        reason_2,
        guardrail,
        exposure_removed_fen
    from shard_largest_changes
    where review_date = :review_date
      and run_mode = :run_mode
      and shard_count = :shard_count
),

final as (
    select *
    from changes
    order by exposure_removed_fen desc, account_id
    limit 10
)

select * from final
order by exposure_removed_fen desc, account_id
