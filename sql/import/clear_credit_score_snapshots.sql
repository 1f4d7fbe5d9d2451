-- A re-import of a date replaces that date's credit_score_snapshots rows, and drops the score
-- baseline's sums of every later review date, whose window held them: the next extract carries
-- an earlier night's sums or sums the window from scratch (score_baselines.py).
delete from credit_score_snapshots where snapshot_date = :snapshot_date;
delete from score_baseline_nights where review_date > :snapshot_date;
delete from score_baselines where review_date > :snapshot_date;
