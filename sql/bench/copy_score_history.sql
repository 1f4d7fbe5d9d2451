-- The benchmark's score history (PostgreSQL): the score snapshot of one night copied under every
-- date from the first one given to the last, as a warehouse that has received a snapshot every
-- night holds.
insert into credit_score_snapshots (account_id, snapshot_date, score, model_version)
select scores.account_id, cast(earlier.day as date), scores.score, scores.model_version
from credit_score_snapshots as scores
cross join generate_series(cast(:first_date as date), cast(:last_date as date), interval '1 day') as earlier(day)
where scores.snapshot_date = :night
