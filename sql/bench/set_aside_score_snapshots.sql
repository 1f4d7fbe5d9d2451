-- The benchmark's score history (PostgreSQL): the loaded score snapshots moved aside, so that
-- copy_score_history can append every date again in the order nightly loads would have.
create temporary table loaded_score_snapshots on commit drop as select * from credit_score_snapshots;
truncate credit_score_snapshots;
