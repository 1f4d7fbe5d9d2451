-- limit_decisions: the live decision for each account on each review date, with its reasons and
-- the values they were read from. Written once by apply_limit_changes; a re-run inserts nothing.
-- Grain: one row per account per review date per policy arm.
-- is_applied is true for the one arm that decides the account, unless a newer review had already
-- set the account's limit (a backfill): then no arm is applied.
create table if not exists limit_decisions (
    account_id        bigint  not null,
    review_date       date    not null,
    arm               text    not null,
    policy_version    text    not null,
    action            text    not null,  -- DECREASE | DECREASE_TO_FLOOR | FREEZE | RESTORE | HOLD
    old_limit_fen     bigint  not null,
    new_limit_fen     bigint  not null,
    old_status        text    not null,
    new_status        text    not null,
    reason_1          text,
    reason_2          text,
    reason_3          text,
    reason_4          text,
    guardrail         text,
    score             integer,
    score_drop        integer,
    days_past_due     integer,
    min_payment_only_months integer,
    spend_ratio       double precision,
    largest_txn_ratio double precision,
    days_since_last_txn integer,
    security_events   integer,
    inquiries_30d     integer,
    on_time_full_payment_months integer,
    verified_monthly_income_fen bigint,
    is_applied        boolean not null,
    primary key (account_id, review_date, arm)
);
create index if not exists limit_decisions_by_date on limit_decisions (review_date, action);
