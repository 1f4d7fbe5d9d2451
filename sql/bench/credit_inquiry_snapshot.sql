-- The benchmark's floor of every input: one date's credit-inquiry snapshot, read whole, with
-- nothing else.
select * from credit_inquiry_snapshots where snapshot_date = :snapshot_date
