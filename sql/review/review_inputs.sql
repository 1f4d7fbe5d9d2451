-- The staged inputs of one run, for reassess_accounts.
select *
from review_inputs
where review_date = :review_date and run_mode = :run_mode
order by account_id
