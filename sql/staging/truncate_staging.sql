-- Empty the staging tables at once, with no dead rows left for a later scan to step over. Only
-- under lock_staging_nowait, and only when every staged row is one that
-- clear_finished_runs.sql would delete.
truncate review_inputs, staged_decisions, staged_traces
