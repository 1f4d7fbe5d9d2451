-- The live decisions recorded for one review date: the baseline a policy simulation compares a
-- candidate policy with. Per account, the arm that was applied; where no arm was (a backfill that
-- a newer review had superseded), the champion's decision.
-- Grain: one row per account decided on the review date.
with

recorded as (
    select
        account_id,
        arm,
        policy_version,
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
        row_number() over (
            partition by account_id
            order by
                case when is_applied then 0 else 1 end,
                case when arm = 'champion' then 0 else 1 end,
                arm
        ) as preference
    from limit_decisions
    where review_date = :review_date
),

final as (
    select
        account_id,
        arm,
        policy_version,
        action,
        old_limit_fen,
        new_limit_fen,
        old_status,
        new_status,
        reason_1,
        reason_2,
        reason_3,
        reason_4,
        guardrail
    from recorded
    where preference = 1
)

select * from final
order by account_id
