-- The ranges an earlier plan of the run drew, before plan_extract draws them again.
delete from extract_account_ranges
where review_date = :review_date
  and run_mode = :run_mode
  and part_count = :part_count
