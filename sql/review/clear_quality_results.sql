delete from quality_results where review_date = :review_date and run_mode = :run_mode
