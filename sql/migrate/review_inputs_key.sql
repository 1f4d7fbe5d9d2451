-- The primary key review_inputs had before it was dropped (sql/schema/09_review_inputs.sql says
-- why): a row when this PostgreSQL warehouse still has it.
select conname as key_name
from pg_constraint
where conrelid = 'review_inputs'::regclass
  and contype = 'p'
