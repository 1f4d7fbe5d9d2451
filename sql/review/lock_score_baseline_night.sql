-- PostgreSQL: keep a stored night's sums from being pruned by another run's extract until this
-- transaction ends (SQLite's extract holds the only write lock already). No row: pruned just now.
select review_date
from score_baseline_nights
where review_date = :locked_date and baseline_days = :baseline_days
for share
