-- Accounts staged for one run: every one of them must have a decision before the breaker runs.
select count(*) as accounts_staged
from review_inputs
where review_date = :review_date
  and run_mode = :run_mode
