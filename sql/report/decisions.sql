-- Every staged decision of one run, in account order: the rows of the report's decisions.csv.
-- Grain: one row per account per arm (review date and run mode are fixed by the parameters).
-- Account ids are masked as everywhere in a report (1000****01): the warehouse holds the full ids
-- for those entitled to them.
with

decisions as (
    select
        -- identity
        review_date,
        run_mode,
        case
            when length(cast(account_id as text)) > 6
                then substr(cast(account_id as text), 1, 4) || '****'
                     || substr(cast(account_id as text), length(cast(account_id as text)) - 1, 2)
            else '****' || substr(cast(account_id as text), length(cast(account_id as text)) - 1, 2)
        end as account_masked,
        account_id as account_order,
        policy_version,
        arm,
        case when applies then 1 else 0 end as applies,  -- 1/0 on every database
        -- decision
        action,
        old_limit_fen,
        new_limit_fen,
        old_status,
        new_status,
        reason_1,
        reason_2,
        reason_3,
        reason_4,
        guardrail,
        -- the values the reasons were read from
        score,
        score_drop,
        days_past_due,
        min_payment_only_months,
        spend_ratio,
        largest_txn_ratio,
        days_since_last_txn,
        security_events,
        inquiries_30d,
        on_time_full_payment_months,
        verified_monthly_income_fen,
        preferred_language
    from staged_decisions
    where review_date = :review_date
      and run_mode = :run_mode
),

final as (
    select * from decisions
)

select
    review_date, run_mode, account_masked, policy_version, arm, applies, action,
    old_limit_fen, new_limit_fen, old_status, new_status,
    reason_1, reason_2, reason_3, reason_4, guardrail,
    score, score_drop, days_past_due, min_payment_only_months, spend_ratio, largest_txn_ratio,
    days_since_last_txn, security_events, inquiries_30d, on_time_full_payment_months,
    verified_monthly_income_fen, preferred_language
from final
order by account_order, arm
