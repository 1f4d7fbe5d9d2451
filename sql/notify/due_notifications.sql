-- Queued notifications that have failed exactly attempts times and whose backoff has passed (a
-- row never tried has no last_attempt_at). The dispatcher asks once per attempts value, each with
-- its own due_before (now minus that value's backoff). Grain: one row per notification.
with

due as (
    select
        notification_key,
        account_id,
        review_date,
        channel,
        language,
        action,
        title,
        body,
        attempts
    from notifications
    where status = 'queued'
      and attempts = :attempts
      and (last_attempt_at is null or last_attempt_at <= :due_before)
)

select * from due
order by review_date, notification_key
limit :batch_size
