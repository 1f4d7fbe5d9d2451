-- Quarantined snapshot rows of a run and the accounts they belong to, for the quality gate.
select
    count(*) as rows_quarantined,
    count(distinct account_id) as accounts_quarantined
from quarantined_rows
where review_date = :review_date
  and run_mode = :run_mode
