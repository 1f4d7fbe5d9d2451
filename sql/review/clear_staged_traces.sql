delete from staged_traces where review_date = :review_date and run_mode = :run_mode
