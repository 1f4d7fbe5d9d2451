-- Stage everything the policy needs about each reviewable account as of the review date.
-- Grain of the result: one row per account that is not closed as of the review date.
-- Limits and statuses are rebuilt as of the review date: the earliest ledger change on or after
-- it holds the values that were in force before it, so re-runs and backfills see the same inputs.
-- So are the dates of the last decrease and increase: an account the ledger changed on or after
-- the review date (a backfill) gets them from the ledger's rows before it; every other account
-- from its own columns, which apply keeps equal to its latest ledger rows. A nightly run reads
-- none of the ledger's history.
insert into review_inputs (
    review_date, run_mode, account_id, segment, preferred_language, status, has_open_appeal,
    refused_automated_decisions,
    approved_limit_fen, old_limit_fen, customer_cap_fen, outstanding_balance_fen,
    last_decrease_date, last_increase_date,
    score, previous_score, baseline_score_90d,
    statement_balance_fen, minimum_due_fen, amount_paid_fen, days_past_due,
    overdue_count_3m, overdue_count_6m, overdue_count_12m,
    min_payment_only_months, on_time_full_payment_months, utilisation_ratio,
    txn_count_30d, txn_amount_30d_fen, baseline_txn_count_30d, baseline_txn_amount_30d_fen,
    largest_txn_30d_fen, days_since_last_txn,
    takeover_suspected_events, device_change_events, sim_change_events, password_reset_events,
    inquiries_30d, inquiries_90d, external_debt_fen, external_debt_90d_ago_fen,
    verified_monthly_income_fen
)
with

first_change_from_review as (
    select account_id, min(review_date) as review_date
    from limit_ledger
    where review_date >= :review_date
    group by account_id
),

state_before_review as (
    select ledger.account_id, ledger.old_limit_fen, ledger.old_status
    from limit_ledger as ledger
    join first_change_from_review as first_change
      on first_change.account_id = ledger.account_id
     and first_change.review_date = ledger.review_date
),

past_changes as (  -- a backfill only: without a change on or after the review date, not even scanned
    select
        account_id,
        max(case when new_limit_fen < old_limit_fen then review_date end) as last_decrease_date,
        max(case when new_limit_fen > old_limit_fen then review_date end) as last_increase_date
    from limit_ledger
    where review_date < :review_date
      and exists (select 1 from first_change_from_review)
    group by account_id
),

accounts_as_of as (
    select
        accounts.*,
        coalesce(state_before_review.old_limit_fen, accounts.current_limit_fen) as old_limit_fen,
        coalesce(state_before_review.old_status, accounts.status) as status_as_of,
        state_before_review.account_id is not null as changed_from_review
    from accounts
    left join state_before_review on state_before_review.account_id = accounts.account_id
),

previous_scores as (
    select account_id, score as previous_score
    from credit_score_snapshots
    where snapshot_date = :previous_snapshot_date
),

baseline_scores as (  -- summed for the date by score_baselines.py, before this statement
    select account_id, cast(score_sum as double precision) / score_count as baseline_score_90d
    from score_baselines
    where review_date = :review_date and baseline_days = :baseline_days
),

security as (
    select
        account_id,
        sum(case when event_type = 'account_takeover_suspected' then 1 else 0 end) as takeover_suspected_events,
        sum(case when event_type = 'device_change' then 1 else 0 end) as device_change_events,
        sum(case when event_type = 'sim_change' then 1 else 0 end) as sim_change_events,
        sum(case when event_type = 'password_reset' then 1 else 0 end) as password_reset_events
    from security_events
    where event_date > :security_window_start and event_date <= :review_date
    group by account_id
),

income as (
    select account_id, max(monthly_income_fen) as verified_monthly_income_fen
    from income_verifications
    where verified_date > :income_window_start and verified_date <= :review_date
    group by account_id
),

final as (
    select
        :review_date as review_date,
        :run_mode as run_mode,
        a.account_id,
        a.segment,
        a.preferred_language,
        a.status_as_of as status,
        a.has_open_appeal,
        a.refused_automated_decisions,
        -- limits
        a.approved_limit_fen,
        a.old_limit_fen,
        a.customer_cap_fen,
        a.outstanding_balance_fen,
        case when a.changed_from_review then past_changes.last_decrease_date else a.last_decrease_date end
            as last_decrease_date,
        case when a.changed_from_review then past_changes.last_increase_date else a.last_increase_date end
            as last_increase_date,
        -- score
        scores.score,
        previous_scores.previous_score,
        baseline_scores.baseline_score_90d,
        -- repayment
        repayments.statement_balance_fen,
        repayments.minimum_due_fen,
        repayments.amount_paid_fen,
        repayments.days_past_due,
        repayments.overdue_count_3m,
        repayments.overdue_count_6m,
        repayments.overdue_count_12m,
        repayments.min_payment_only_months,
        repayments.on_time_full_payment_months,
        repayments.utilisation_ratio,
        -- spending
        spending.txn_count_30d,
        spending.txn_amount_30d_fen,
        spending.baseline_txn_count_30d,
        spending.baseline_txn_amount_30d_fen,
        spending.largest_txn_30d_fen,
        spending.days_since_last_txn,
        -- security
        coalesce(security.takeover_suspected_events, 0) as takeover_suspected_events,
        coalesce(security.device_change_events, 0) as device_change_events,
        coalesce(security.sim_change_events, 0) as sim_change_events,
        coalesce(security.password_reset_events, 0) as password_reset_events,
        -- borrowing elsewhere
        inquiries.inquiries_30d,
        inquiries.inquiries_90d,
        inquiries.external_debt_fen,
        inquiries.external_debt_90d_ago_fen,
        -- restoration evidence
        income.verified_monthly_income_fen
    from accounts_as_of as a
    left join credit_score_snapshots as scores
      on scores.account_id = a.account_id and scores.snapshot_date = :review_date
    left join previous_scores on previous_scores.account_id = a.account_id
    left join baseline_scores on baseline_scores.account_id = a.account_id
    left join repayment_snapshots as repayments
      on repayments.account_id = a.account_id and repayments.snapshot_date = :review_date
    left join spending_snapshots as spending
      on spending.account_id = a.account_id and spending.snapshot_date = :review_date
    left join credit_inquiry_snapshots as inquiries
      on inquiries.account_id = a.account_id and inquiries.snapshot_date = :review_date
    left join security on security.account_id = a.account_id
    left join income on income.account_id = a.account_id
    left join past_changes on past_changes.account_id = a.account_id
    where a.status_as_of <> 'closed'
)

select * from final
