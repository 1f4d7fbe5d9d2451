-- Reason codes of one run's decisions, counted over reason_1..reason_4, with the exposure the
-- decisions carrying each code moved (drawable limit after minus before, in fen): the sums of
-- what each reassessment shard of the run's split counted (shard_counts.py).
-- Grain: one row per reason code; its count is the number of accounts it was given to.
with

counts as (
    select code, accounts, exposure_change_fen
    from shard_reason_counts
    where review_date = :review_date
      and run_mode = :run_mode
      and shard_count = :shard_count
),

final as (
    select
        code,
        cast(sum(accounts) as bigint) as accounts,
        cast(sum(exposure_change_fen) as bigint) as exposure_change_fen
    from counts
    group by code
)

select * from final
