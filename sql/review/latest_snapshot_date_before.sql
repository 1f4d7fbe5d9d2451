-- The latest credit-score snapshot date before the review date: the comparison point for a drop.
select max(snapshot_date) as previous_snapshot_date
from credit_score_snapshots
where snapshot_date < :review_date
