-- A re-import of a date's scores changes the window of every later review date: their sums are
-- dropped, and the next extract carries an earlier night's or sums the window from scratch.
delete from score_baseline_nights where review_date > :snapshot_date;
delete from score_baselines where review_date > :snapshot_date;
