-- A re-import of a date replaces the income verifications dated that day.
delete from income_verifications where verified_date = :snapshot_date
