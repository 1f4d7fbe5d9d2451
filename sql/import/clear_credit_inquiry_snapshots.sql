-- A re-import of a date replaces that date's credit_inquiry_snapshots rows.
delete from credit_inquiry_snapshots where snapshot_date = :snapshot_date
