-- A re-import of a date replaces the security events dated that day.
delete from security_events where event_date = :snapshot_date
