-- The credit scores of one snapshot date, counted per score value (binned by the report).
-- Grain: one row per distinct non-null score.
with

scores as (
    select score
    from credit_score_snapshots
    where snapshot_date = :snapshot_date
      and score is not null
),

final as (
    select
        score,
        count(*) as accounts
    from scores
    group by score
)

select * from final
