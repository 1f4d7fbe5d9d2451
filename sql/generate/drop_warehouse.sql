-- Drop every table of the warehouse, outputs first: `plr generate` rebuilds the schema from
-- sql/schema so a warehouse made by an older version of the code gets today's tables.
drop table if exists review_history;
drop table if exists shard_quality_results;
drop table if exists decision_traces;
drop table if exists run_failures;
drop table if exists stage_attempts;
drop table if exists staged_traces;
drop table if exists quarantined_rows;
drop table if exists quality_results;
drop table if exists notifications;
drop table if exists limit_ledger;
drop table if exists limit_decisions;
drop table if exists staged_decisions;
drop table if exists review_inputs;
drop table if exists score_baselines;
drop table if exists score_baseline_nights;
drop table if exists review_runs;
drop table if exists income_verifications;
drop table if exists credit_inquiry_snapshots;
drop table if exists security_events;
drop table if exists spending_snapshots;
drop table if exists repayment_snapshots;
drop table if exists credit_score_snapshots;
drop table if exists accounts;
drop table if exists customer_profiles;
