-- The sums of nights too old for a later extract to carry: kept for the last few nights only.
delete from score_baseline_nights where review_date < :kept_from;
delete from score_baselines where review_date < :kept_from;
