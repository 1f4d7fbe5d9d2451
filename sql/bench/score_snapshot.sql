-- The benchmark's floor: one date's credit-score snapshot, read whole, with nothing else.
select * from credit_score_snapshots where snapshot_date = :snapshot_date
