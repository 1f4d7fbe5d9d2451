-- Each account's valid scores (350..950, as the quality gate has them) over the window before the
-- review date: a carried earlier night's sums, plus the snapshot dates that entered the window
-- since that night, minus those that left it. Without a carried night the carried date is null
-- (no row), the added dates are the whole window and the dropped range is empty.
insert into score_baselines (review_date, baseline_days, account_id, score_sum, score_count)
select :review_date, :baseline_days, account_id, sum(score_sum), sum(score_count)
from (
    select account_id, score_sum, score_count
    from score_baselines
    where review_date = :carried_date and baseline_days = :baseline_days
    union all
    select account_id, score, 1
    from credit_score_snapshots
    where snapshot_date >= :added_from and snapshot_date < :review_date
      and score between 350 and 950
    union all
    select account_id, -score, -1
    from credit_score_snapshots
    where snapshot_date >= :dropped_from and snapshot_date < :baseline_start
      and score between 350 and 950
) as window_scores
group by account_id
having sum(score_count) > 0
