-- The benchmark's floor of every input: the security events of the policy's window before the
-- review date, with nothing else.
select * from security_events where event_date > :window_start and event_date <= :review_date
