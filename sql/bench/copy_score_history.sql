-- The benchmark's score history (PostgreSQL): one date's score snapshot, appended as a copy of
-- the loaded snapshot of the source date (the date itself, for the dates that were loaded).
insert into credit_score_snapshots (account_id, snapshot_date, score, model_version)
select account_id, :snapshot_date, score, model_version
from loaded_score_snapshots
where snapshot_date = :source_date
order by account_id
