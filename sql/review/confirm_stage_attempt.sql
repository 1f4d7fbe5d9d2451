-- Inside the stage's transaction, just before it commits: succeeds (one row) only while the
-- claim is still this attempt's. The row lock it takes orders it against a concurrent claim.
update stage_attempts
set committed_attempt_id = :attempt_id
where review_date = :review_date
  and run_mode = :run_mode
  and stage = :stage
  and attempt_id = :attempt_id
