-- Forget the history row of one run before build_report writes it again (a re-run replaces it).
delete from review_history
where review_date = :review_date
  and run_mode = :run_mode
