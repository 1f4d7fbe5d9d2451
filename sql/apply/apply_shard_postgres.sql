-- Apply one shard of a review date on PostgreSQL in one statement: record its live decisions
-- and their traces, append the ledger rows of the applied changes among them, and move the
-- accounts' current limits. Each step reads the rows the step before it wrote (data-modifying
-- CTEs), never the tables they went into, so no statement plans on statistics that do not count
-- this run's rows yet, and no shard needs to ANALYZE (which would make the shards take turns
-- until commit). A first attempt inserts its decisions plainly (look_up_recorded false): no
-- look-up, and no conflict check, which cost a quarter of the statement (a fourth WAL record per
-- row). Where a decision of the shard is recorded already, the primary key refuses that insert
-- and ledger.py runs the statement again with look_up_recorded true, skipping every decision
-- recorded before. So a re-run records nothing, and so appends, traces and moves nothing either.
-- The same rules as insert_decision_traces, insert_limit_decisions, insert_limit_ledger and
-- update_current_limits, which SQLite runs one by one; is_applied is false where a newer review
-- decided the account already.
-- Returns one row per change appended, for its notice, each with the shard's counts; a single
-- row of counts and nulls when nothing changed.
with

recorded as (
    insert into limit_decisions (
        account_id, review_date, arm, policy_version, action,
        old_limit_fen, new_limit_fen, old_status, new_status,
        reason_1, reason_2, reason_3, reason_4, guardrail,
        score, score_drop, days_past_due, min_payment_only_months, spend_ratio, largest_txn_ratio,
        days_since_last_txn, security_events, inquiries_30d, on_time_full_payment_months,
        verified_monthly_income_fen, is_applied
    )
    select
        staged.account_id, staged.review_date, staged.arm, staged.policy_version, staged.action,
        staged.old_limit_fen, staged.new_limit_fen, staged.old_status, staged.new_status,
        staged.reason_1, staged.reason_2, staged.reason_3, staged.reason_4, staged.guardrail,
        staged.score, staged.score_drop, staged.days_past_due, staged.min_payment_only_months,
        staged.spend_ratio, staged.largest_txn_ratio, staged.days_since_last_txn,
        staged.security_events, staged.inquiries_30d, staged.on_time_full_payment_months,
        staged.verified_monthly_income_fen,
        staged.applies and newer.account_id is null as is_applied
    from staged_decisions as staged
    left join (  -- a newer review decided the account already: a backfill changes nothing
        -- (the newer dates' rows, one range of the key; a night has none)
        select distinct account_id from limit_decisions where review_date > :review_date
    ) as newer on newer.account_id = staged.account_id
    where staged.review_date = :review_date
      and staged.run_mode = 'live'
      and ((abs(staged.account_id) / :shard_block % 2147483647) * 950706376 % 2147483647) % :shard_count = :shard
      and (
          not :look_up_recorded  -- the first attempt: nothing to look up (the planner drops the look-up)
          or not exists (  -- a re-run: a decision recorded before keeps its row
              select 1 from limit_decisions as recorded_before
              where recorded_before.account_id = staged.account_id
                and recorded_before.review_date = staged.review_date
                and recorded_before.arm = staged.arm
          )
      )
    returning
        account_id, review_date, arm, policy_version, action, old_limit_fen, new_limit_fen,
        old_status, new_status, reason_1, reason_2, reason_3, reason_4, is_applied
),

traced as (  -- a decision keeps the trace it was recorded with: only new decisions get one
    insert into decision_traces (
        account_id, review_date, arm, step, kind, code, feature, operator, threshold,
        observed_value, held, detail
    )
    select
        traces.account_id, traces.review_date, traces.arm, traces.step, traces.kind, traces.code,
        traces.feature, traces.operator, traces.threshold, traces.observed_value, traces.held, traces.detail
    from staged_traces as traces
    join recorded
      on recorded.account_id = traces.account_id
     and recorded.arm = traces.arm
    where traces.review_date = :review_date
      and traces.run_mode = 'live'
      and ((abs(traces.account_id) / :shard_block % 2147483647) * 950706376 % 2147483647) % :shard_count = :shard
    returning account_id
),

changed as (
    insert into limit_ledger (
        account_id, review_date, policy_version, action,
        old_limit_fen, new_limit_fen, old_status, new_status, reason_1
    )
    select
        account_id, review_date, policy_version, action,
        old_limit_fen, new_limit_fen, old_status, new_status, reason_1
    from recorded
    where is_applied
      and (new_limit_fen <> old_limit_fen or new_status <> old_status)
    returning account_id, review_date, action, old_limit_fen, new_limit_fen, new_status
),

moved as (  -- the dates of the last decrease and increase move with the limit (01_accounts.sql)
    update accounts
    set
        current_limit_fen = changed.new_limit_fen,
        status = changed.new_status,
        limit_set_by_review_date = :review_date,
        last_decrease_date = case
            when changed.new_limit_fen < changed.old_limit_fen then :review_date else accounts.last_decrease_date
        end,
        last_increase_date = case
            when changed.new_limit_fen > changed.old_limit_fen then :review_date else accounts.last_increase_date
        end
    from changed
    where accounts.account_id = changed.account_id
      and (accounts.limit_set_by_review_date is null or accounts.limit_set_by_review_date < :review_date)
    returning accounts.account_id
),

counts as (
    select
        (select count(*) from recorded) as decisions_recorded,
        (select count(*) from traced) as traces_recorded,
        (select count(*) from moved) as limits_updated
),

notices as (
    select
        changed.account_id,
        changed.review_date,
        changed.action,
        changed.old_limit_fen,
        changed.new_limit_fen,
        recorded.reason_1,
        recorded.reason_2,
        recorded.reason_3,
        recorded.reason_4,
        accounts.preferred_language as language
    from changed
    join recorded
      on recorded.account_id = changed.account_id
     and recorded.is_applied
    join accounts on accounts.account_id = changed.account_id
),

final as (
    select counts.decisions_recorded, counts.traces_recorded, counts.limits_updated, notices.*
    from counts
    left join notices on true
)

select * from final
