-- The staged inputs of one account in one run, to show the values behind its reasons.
select *
from review_inputs
where account_id = :account_id and review_date = :review_date and run_mode = :run_mode
