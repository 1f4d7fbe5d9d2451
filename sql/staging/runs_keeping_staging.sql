-- The recorded runs whose staged rows a night must keep: those not over (in flight, failed,
-- awaiting approval) and those of this date or later, whether or not they still have rows.
-- Empty when every staged row is one that clear_finished_runs.sql would delete, or of a
-- simulation: every other run records itself in review_runs in the transaction that stages its
-- inputs. Read from review_runs alone, so the answer costs nothing however large the staging
-- tables are.
select review_date, run_mode, status
from review_runs
where not (status in ('reported', 'not_applied') and review_date < :review_date)
order by review_date, run_mode
