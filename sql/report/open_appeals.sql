-- Accounts of one run with an appeal open as of the review date (their decreases are paused).
-- Grain: one row.
with

inputs as (
    select has_open_appeal
    from review_inputs
    where review_date = :review_date
      and run_mode = :run_mode
),

final as (
    select coalesce(sum(case when has_open_appeal then 1 else 0 end), 0) as open_appeals
    from inputs
)

select * from final
