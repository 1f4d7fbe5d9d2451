-- staged_decisions: the decisions of one run before they are applied, written by
-- reassess_accounts. A dry run stops here; a live run copies them into limit_decisions.
-- Grain: one row per account per review date per run mode per policy arm; exactly one arm of an
-- account applies (champion, or challenger for its share in a live experiment).
-- No primary key, as review_inputs has none: each reassessment shard deletes its rows and writes
-- its accounts' decisions once (one review_inputs row per account), an attempt that a newer
-- attempt of its shard took over from cannot commit (stage_attempts), check_portfolio stops a
-- run whose count of decisions is not its count of staged inputs, and apply records them into
-- limit_decisions, whose key refuses a second decision. On PostgreSQL the key cost more than the
-- rows: 10,000,000 decisions written shard by shard took 27.8 s with it and 9.8 s without, as
-- the key outgrew the server's buffers (2.0 s and 1.0 s at 1,000,000).
create table if not exists staged_decisions (
    review_date       date    not null,
    run_mode          text    not null,
    account_id        bigint  not null,
    policy_version    text    not null,
    arm               text    not null,  -- champion | challenger
    applies           boolean not null,
    action            text    not null,
    old_limit_fen     bigint  not null,
    new_limit_fen     bigint  not null,
    old_status        text    not null,
    new_status        text    not null,
    reason_1          text,
    reason_2          text,
    reason_3          text,
    reason_4          text,
    guardrail         text,
    -- the values the reasons were read from, kept for explanations and audit
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
    preferred_language text   not null
);
