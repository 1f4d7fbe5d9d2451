-- Decisions of one run counted by action and guardrail, with the exposure they carry: the sums of
-- what each reassessment shard of the run's split counted (shard_counts.py).
-- Grain: one row per action per guardrail (guardrail null when none shaped the decision).
-- Exposure is the limit a customer can draw: the limit of an active account, in fen.
with

counts as (
    select
        action,
        guardrail,
        accounts,
        changes,
        exposure_before_fen,
        exposure_after_fen
    from shard_decision_counts
    where review_date = :review_date
      and run_mode = :run_mode
      and shard_count = :shard_count
      and applies  -- the arm that decides each account
),

final as (
    select
        action,
        guardrail,
        cast(sum(accounts) as bigint) as accounts,
        cast(sum(changes) as bigint) as changes,
        cast(sum(exposure_before_fen) as bigint) as exposure_before_fen,
        cast(sum(exposure_after_fen) as bigint) as exposure_after_fen
    from counts
    group by action, guardrail
)

select * from final
