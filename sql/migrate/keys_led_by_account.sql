-- The history tables of this PostgreSQL warehouse whose primary key still leads with the account
-- (made before the keys led with the review date, sql/schema/11_limit_decisions.sql says why):
-- one row per table to re-key with rekey_<table_name>.sql.
select rel.relname as table_name
from pg_constraint as con
join pg_class as rel on rel.oid = con.conrelid
join pg_attribute as att on att.attrelid = con.conrelid and att.attnum = con.conkey[1]
where con.contype = 'p'
  and con.conrelid in ('limit_decisions'::regclass, 'limit_ledger'::regclass, 'decision_traces'::regclass)
  and att.attname <> 'review_date'
order by rel.relname
