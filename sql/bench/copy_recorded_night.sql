-- The benchmark's history (PostgreSQL): the decisions, traces and ledger rows recorded for one
-- night, copied under an earlier date, as a warehouse that has run that many more nights holds.
-- Returns the rows written.
with

decisions as (
    insert into limit_decisions (
        account_id, review_date, arm, policy_version, action,
        old_limit_fen, new_limit_fen, old_status, new_status,
        reason_1, reason_2, reason_3, reason_4, guardrail,
        score, score_drop, days_past_due, min_payment_only_months, spend_ratio, largest_txn_ratio,
        days_since_last_txn, security_events, inquiries_30d, on_time_full_payment_months,
        verified_monthly_income_fen, is_applied
    )
    select
        account_id, :earlier, arm, policy_version, action,
        old_limit_fen, new_limit_fen, old_status, new_status,
        reason_1, reason_2, reason_3, reason_4, guardrail,
        score, score_drop, days_past_due, min_payment_only_months, spend_ratio, largest_txn_ratio,
        days_since_last_txn, security_events, inquiries_30d, on_time_full_payment_months,
        verified_monthly_income_fen, is_applied
    from limit_decisions
    where review_date = :night
    returning 1
),

traces as (
    insert into decision_traces (
        account_id, review_date, arm, step, kind, code, feature, operator, threshold,
        observed_value, held, detail
    )
    select
        account_id, :earlier, arm, step, kind, code, feature, operator, threshold,
        observed_value, held, detail
    from decision_traces
    where review_date = :night
    returning 1
),

changes as (
    insert into limit_ledger (
        account_id, review_date, policy_version, action,
        old_limit_fen, new_limit_fen, old_status, new_status, reason_1
    )
    select
        account_id, :earlier, policy_version, action,
        old_limit_fen, new_limit_fen, old_status, new_status, reason_1
    from limit_ledger
    where review_date = :night
    returning 1
)

select
    (select count(*) from decisions) + (select count(*) from traces) + (select count(*) from changes)
        as rows_written
