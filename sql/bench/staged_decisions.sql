-- The benchmark's floor: the decisions of one run, to be written back by the floor's COPY in.
select * from staged_decisions where review_date = :review_date and run_mode = :run_mode
