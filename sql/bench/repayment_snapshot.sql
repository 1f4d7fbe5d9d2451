-- The benchmark's floor: one date's repayment snapshot, read whole, with nothing else.
select * from repayment_snapshots where snapshot_date = :snapshot_date
