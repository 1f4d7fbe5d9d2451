-- Record the traces of the live decisions about to be recorded: run before
-- insert_limit_decisions, in the same transaction, so a decision already recorded keeps the trace
-- it was recorded with and a re-run adds nothing. One shard (shards.py) at a time; 0 of 1 is all.
-- SQLite's step (see apply_shard_postgres).
insert into decision_traces (
    account_id, review_date, arm, step, kind, code, feature, operator, threshold,
    observed_value, held, detail
)
select
    traces.account_id, traces.review_date, traces.arm, traces.step, traces.kind, traces.code,
    traces.feature, traces.operator, traces.threshold, traces.observed_value, traces.held, traces.detail
from staged_traces as traces
where traces.review_date = :review_date
  and traces.run_mode = 'live'
  and ((abs(traces.account_id) / :shard_block % 2147483647) * 950706376 % 2147483647) % :shard_count = :shard
  and not exists (
      select 1 from limit_decisions as recorded
      where recorded.account_id = traces.account_id
        and recorded.review_date = traces.review_date
        and recorded.arm = traces.arm
  )
