-- One range of accounts of one run's staged inputs, before extract_snapshots stages it again.
delete from review_inputs
where review_date = :review_date
  and run_mode = :run_mode
  and account_id between :first_account_id and :last_account_id
