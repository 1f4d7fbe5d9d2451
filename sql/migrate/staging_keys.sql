-- The primary keys the staging tables had before they were dropped (sql/schema/09_review_inputs.sql
-- and 10_staged_decisions.sql say why): a row for each one this PostgreSQL warehouse still has.
select conrelid::regclass::text as table_name, conname as key_name
from pg_constraint
where conrelid in ('review_inputs'::regclass, 'staged_decisions'::regclass, 'staged_traces'::regclass)
  and contype = 'p'
