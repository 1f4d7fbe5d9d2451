-- The trace of one account's decisions on one review date, recorded if live, else staged.
with

recorded as (
    select arm, step, kind, code, detail, held
    from decision_traces
    where account_id = :account_id and review_date = :review_date
),

staged as (
    select arm, step, kind, code, detail, held
    from staged_traces
    where account_id = :account_id and review_date = :review_date and run_mode = :run_mode
      and not exists (select 1 from recorded)
),

final as (
    select * from recorded
    union all
    select * from staged
)

select * from final order by arm, step
