-- SQLite: whether a night's sums are stored (PostgreSQL locks the row instead, with
-- lock_score_baseline_night.sql). No row: never summed, pruned, or emptied by a crash.
select review_date
from score_baseline_nights
where review_date = :locked_date and baseline_days = :baseline_days
