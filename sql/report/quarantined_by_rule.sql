-- The snapshot rows one run quarantined, by table, column and the rule they broke.
-- Grain: one row per table per column per rule.
with

quarantined as (
    select table_name, column_name, rule, account_id
    from quarantined_rows
    where review_date = :review_date
      and run_mode = :run_mode
),

final as (
    select
        table_name,
        column_name,
        rule,
        count(*) as rows_quarantined,
        count(distinct account_id) as accounts
    from quarantined
    group by table_name, column_name, rule
)

select * from final
order by rows_quarantined desc, table_name, column_name, rule
