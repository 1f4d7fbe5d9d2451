-- The applied decision of every account on every replayed review date, with the limit it was
-- approved for: what the backtest scores. Grain: one row per account per review date.
with

applied as (
    select
        account_id, review_date, action, old_limit_fen, new_limit_fen, old_status, new_status,
        guardrail, score
    from limit_decisions
    where is_applied
),

final as (
    select applied.*, accounts.approved_limit_fen
    from applied
    join accounts on accounts.account_id = applied.account_id
)

select * from final
