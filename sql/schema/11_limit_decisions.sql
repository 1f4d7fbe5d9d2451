-- limit_decisions: the live decision for each account on each review date, with its reasons and
-- the values they were read from. Written once by apply_limit_changes; a re-run inserts nothing.
-- Grain: one row per account per review date per policy arm.
-- is_applied is true for the one arm that decides the account, unless a newer review had already
-- set the account's limit (a backfill): then no arm is applied.
-- The key leads with the date: a night's million rows go to the right edge of the index. Led by
-- the account, every night touched every leaf page of the history's index (after 30 nights at
-- 1,000,000 accounts: 50 times the full-page writes, 4 times the WAL, apply's insert 1.6 times as
-- long), which grows without end. Every read by account names the date too.
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
    primary key (review_date, account_id, arm)
);
