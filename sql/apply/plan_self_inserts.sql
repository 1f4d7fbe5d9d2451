-- For the rest of the apply transaction, on PostgreSQL: look keys up through the indexes. The
-- apply inserts skip rows already there with `not exists` against the table they fill. On a
-- first night that table is empty, its statistics say so, and the planner picks a sequential
-- scan per row of a table that grows while the statement runs: quadratic (213 s at 100,000
-- accounts). Through the primary key each lookup stays logarithmic, whatever the statistics say.
set local enable_seqscan = off
