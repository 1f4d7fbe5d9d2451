-- The benchmark's floor of every input: one date's spending snapshot, read whole, with nothing else.
select * from spending_snapshots where snapshot_date = :snapshot_date
