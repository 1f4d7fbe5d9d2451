-- Changes applied and notices queued for one review date, whichever run wrote them.
with

changes as (
    select count(*) as changes_applied from limit_ledger where review_date = :review_date
),

notices as (
    select count(*) as notifications_queued from notifications where review_date = :review_date
),

final as (
    select changes.changes_applied, notices.notifications_queued
    from changes cross join notices
)

select * from final
