-- The latest earlier night whose sums for this window length extract can carry forward: one
-- after the window's start, so that adding the dates that entered the window and taking out
-- those that left it reads fewer dates than summing the window from scratch. None: from scratch.
select review_date as carried_date
from score_baseline_nights
where baseline_days = :baseline_days
  and review_date < :review_date
  and review_date > :baseline_start
order by review_date desc
limit 1
