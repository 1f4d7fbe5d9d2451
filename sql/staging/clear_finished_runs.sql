-- Delete the staged rows of the runs that are over, so the staging tables hold the runs in
-- flight and not every night since the warehouse began (the report's queries scan them).
-- A run is over once its report is built (reported, or not_applied after a rejected approval);
-- a failed run or one awaiting approval keeps its rows for its re-run. A run clears the runs of
-- earlier dates only, so a backfill leaves the newer nights alone. Simulations stage and read
-- theirs in one transaction, so their committed rows are never read again.
-- One delete per staging table, the same rule in each (SQL names a table only as itself).
delete from review_inputs
where run_mode = 'simulation'
   or (review_date < :review_date and exists (
       select 1 from review_runs as finished
       where finished.review_date = review_inputs.review_date and finished.run_mode = review_inputs.run_mode
         and finished.status in ('reported', 'not_applied')));

delete from staged_decisions
where run_mode = 'simulation'
   or (review_date < :review_date and exists (
       select 1 from review_runs as finished
       where finished.review_date = staged_decisions.review_date and finished.run_mode = staged_decisions.run_mode
         and finished.status in ('reported', 'not_applied')));

delete from staged_traces
where run_mode = 'simulation'
   or (review_date < :review_date and exists (
       select 1 from review_runs as finished
       where finished.review_date = staged_traces.review_date and finished.run_mode = staged_traces.run_mode
         and finished.status in ('reported', 'not_applied')));
