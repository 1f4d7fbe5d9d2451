-- Stop writing the run's staging tables to the write-ahead log (staging.py says why). A table
-- already unlogged is left as it is; a logged one is rewritten once.
alter table review_inputs set unlogged;
alter table staged_decisions set unlogged;
alter table staged_traces set unlogged;
