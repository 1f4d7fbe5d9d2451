-- How many snapshot rows one run quarantined, and for how many accounts.
-- Grain: one row.
with

quarantined as (
    select account_id
    from quarantined_rows
    where review_date = :review_date
      and run_mode = :run_mode
),

final as (
    select
        count(*) as rows_quarantined,
        count(distinct account_id) as accounts_quarantined
    from quarantined
)

select * from final
