-- A re-import of a date replaces that date's spending_snapshots rows.
delete from spending_snapshots where snapshot_date = :snapshot_date
