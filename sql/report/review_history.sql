-- The latest reported runs of one run mode up to the review date, newest first: the 30-review trend.
-- Grain: one row per review date.
with

history as (
    select *
    from review_history
    where run_mode = :run_mode
      and review_date <= :review_date
),

final as (
    select
        review_date,
        policy_version,
        accounts_reviewed,
        changes,
        lowered,
        restored,
        exposure_before_fen,
        exposure_after_fen,
        score_psi,
        quality_failed,
        breaker_tripped,
        applied
    from history
)

select * from final
order by review_date desc
limit :reviews
