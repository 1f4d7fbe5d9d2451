-- score_baselines: per account, the sum and count of its valid credit scores (350..950) over the
-- baseline window before a review date (the policy's windows_days.score_baseline), which the
-- extract turns into baseline_score_90d. A cache: each night's extract adds the snapshot dates
-- that entered the window to the sums of an earlier night and takes out those that left it, so
-- a night reads two dates of scores instead of ninety (score_baselines.py). Anything in it is
-- rebuilt from credit_score_snapshots: on PostgreSQL both tables are unlogged, as the staging
-- tables are, and an extract that finds no usable earlier night sums the window from scratch.
-- Grain: one row per review date per window length per account with a valid score in the window.
-- No key and no index: on PostgreSQL a key added 2.1 s to the 0.3 s of inserting a night of
-- 1,000,000 accounts; the few nights kept are read whole (score_baseline_nights guards the grain).
create table if not exists score_baselines (
    review_date    date    not null,
    baseline_days  integer not null,
    account_id     bigint  not null,
    score_sum      bigint  not null,
    score_count    integer not null
);

-- score_baseline_nights: the nights whose sums score_baselines holds, one row each, inserted by
-- the extract that sums them before it does: a second extract of the same night waits for the
-- first to commit, then reads its sums instead of adding them again.
-- Grain: one row per review date per window length.
create table if not exists score_baseline_nights (
    review_date    date    not null,
    baseline_days  integer not null,
    primary key (review_date, baseline_days)
);
