-- Delete the staged_decisions rows of every run that is over: the same rule as
-- clear_finished_review_inputs.sql, which says why.
delete from staged_decisions
where run_mode = 'simulation'
   or (
    review_date < :review_date
    and exists (
        select 1
        from review_runs as finished
        where finished.review_date = staged_decisions.review_date
          and finished.run_mode = staged_decisions.run_mode
          and finished.status in ('reported', 'not_applied')
    )
  )
