-- Notifications still to deliver: queued and not out of attempts (due now or after a backoff).
with

pending as (
    select notification_key
    from notifications
    where status = 'queued'
      and attempts < :max_attempts
)

select count(*) as remaining from pending
