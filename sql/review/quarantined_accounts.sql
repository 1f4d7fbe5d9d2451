-- Accounts with a quarantined snapshot row in one run: they get no action.
select distinct account_id
from quarantined_rows
where review_date = :review_date and run_mode = :run_mode
