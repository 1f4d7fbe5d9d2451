-- The newest credit-score snapshot date in the warehouse: what `make run` reviews.
select max(snapshot_date) as latest_snapshot_date from credit_score_snapshots
