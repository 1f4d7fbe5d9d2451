delete from staged_decisions where review_date = :review_date and run_mode = :run_mode
