-- The benchmark's earlier nights: the traces of one run, copied under earlier dates.
select * from staged_traces where review_date = :review_date and run_mode = :run_mode
