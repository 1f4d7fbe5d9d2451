-- Claim the summing of this night's window: one row inserted, or none when an earlier run (or
-- one that was summing it at the same time, and has committed since) stored its sums already.
insert into score_baseline_nights (review_date, baseline_days)
values (:review_date, :baseline_days)
on conflict do nothing
