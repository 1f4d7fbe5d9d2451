-- Split the book into up to part_count ranges of consecutive account ids holding about as many
-- accounts each (fewer ranges when the book has fewer accounts), read in account order off the
-- primary key. The first range starts at the smallest 64-bit id and the last ends at the largest,
-- so an account added after the plan is in one range too.
insert into extract_account_ranges (
    review_date, run_mode, part_count, part, first_account_id, last_account_id
)
with

ranked as (
    select account_id, ntile(:part_count) over (order by account_id) as part
    from accounts
),

starts as (
    select part, min(account_id) as first_account_id
    from ranked
    group by part
),

final as (
    select
        :review_date as review_date,
        :run_mode as run_mode,
        :part_count as part_count,
        part - 1 as part,
        case when part = 1 then :smallest_id else first_account_id end as first_account_id,
        coalesce(lead(first_account_id) over (order by part) - 1, :largest_id) as last_account_id
    from starts
)

select * from final
