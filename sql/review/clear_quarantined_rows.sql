delete from quarantined_rows where review_date = :review_date and run_mode = :run_mode
