-- A re-import of a date replaces that date's credit_score_snapshots rows.
delete from credit_score_snapshots where snapshot_date = :snapshot_date
