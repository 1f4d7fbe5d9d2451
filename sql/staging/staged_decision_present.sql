-- Whether one run still has a staged decision: every run that passed check_portfolio staged at
-- least one, and after a server crash PostgreSQL has emptied the unlogged staging tables.
select count(*) as staged
from (
    select 1
    from staged_decisions
    where review_date = :review_date
      and run_mode = :run_mode
    limit 1
) as any_decision
