delete from review_inputs where review_date = :review_date and run_mode = :run_mode
