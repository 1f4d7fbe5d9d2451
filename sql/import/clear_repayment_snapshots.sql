-- A re-import of a date replaces that date's repayment_snapshots rows.
delete from repayment_snapshots where snapshot_date = :snapshot_date
