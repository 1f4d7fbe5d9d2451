-- Stop writing the run's staging tables to the write-ahead log (staging.py says why). A table
-- already unlogged is left as it is; a logged one is rewritten once. The score baselines' sums
-- too: extract rebuilds them from the snapshots when a crash has emptied them (score_baselines.py).
alter table review_inputs set unlogged;
alter table staged_decisions set unlogged;
alter table staged_traces set unlogged;
alter table score_baselines set unlogged;
alter table score_baseline_nights set unlogged;
