-- The data-quality results of one run: failures first, then critical rules.
-- Grain: one row per table per expectation.
with

results as (
    select
        table_name,
        expectation,
        column_name,
        severity,
        success,
        unexpected_count,
        element_count,
        details
    from quality_results
    where review_date = :review_date
      and run_mode = :run_mode
),

final as (
    select * from results
)

select * from final
order by success, severity, table_name, expectation
