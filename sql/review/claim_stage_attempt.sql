-- A starting attempt claims its stage, taking over from any earlier attempt.
insert into stage_attempts (review_date, run_mode, stage, attempt_id, claimed_at)
values (:review_date, :run_mode, :stage, :attempt_id, current_timestamp)
on conflict (review_date, run_mode, stage) do update set
    attempt_id = excluded.attempt_id,
    claimed_at = excluded.claimed_at
