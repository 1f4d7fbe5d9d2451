-- Record one failed delivery: one more attempt, its time and error; parked as dead_letter once
-- the attempts reach max_attempts, else left queued for a retry after its backoff.
update notifications
set attempts = attempts + 1,
    last_attempt_at = :attempted_at,
    last_error = :last_error,
    status = case when attempts + 1 >= :max_attempts then 'dead_letter' else 'queued' end
where notification_key = :notification_key
  and status = 'queued'
