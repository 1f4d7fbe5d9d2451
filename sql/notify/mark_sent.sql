-- Acknowledge one delivered notification: the sender accepted it at sent_at (attempts and
-- last_error keep the history of the failed tries before). A row that is no longer queued (sent
-- by another dispatcher meanwhile) keeps its first acknowledgement.
update notifications
set status = 'sent',
    sent_at = :sent_at,
    last_attempt_at = :sent_at
where notification_key = :notification_key
  and status = 'queued'
