-- One review run's row.
select * from review_runs where review_date = :review_date and run_mode = :run_mode
