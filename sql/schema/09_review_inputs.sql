-- review_inputs: staging for one run, written by extract_snapshots. Everything the policy needs
-- about an account as of the review date, joined once so later stages read one table.
-- Grain: one row per reviewable (not closed) account per review date per run mode.
-- No primary key: extract's query makes one row per account (the accounts' key, every join on a
-- unique key or on a group by account), limit_decisions' key would stop a duplicate decision, and
-- no read uses an index here (every one filters a date and a shard). On PostgreSQL the key cost
-- 1.1 s of extract's 7.6 s at 1,000,000 accounts.
-- Limits and cool-off dates are reconstructed as of the review date from limit_ledger, so a re-run
-- or a backfill decides from the same inputs as the first run did.
create table if not exists review_inputs (
    review_date                 date    not null,
    run_mode                    text    not null,
    account_id                  bigint  not null,
    segment                     text    not null,
    preferred_language          text    not null,
    status                      text    not null,
    has_open_appeal             boolean not null,
    refused_automated_decisions boolean not null,
    -- limits as of the review date, in fen
    approved_limit_fen          bigint  not null,
    old_limit_fen               bigint  not null,
    customer_cap_fen            bigint,
    outstanding_balance_fen     bigint  not null,
    last_decrease_date          date,
    last_increase_date          date,
    -- credit score
    score                       integer,
    previous_score              integer,
    baseline_score_90d          double precision,
    -- repayment
    statement_balance_fen       bigint,
    minimum_due_fen             bigint,
    amount_paid_fen             bigint,
    days_past_due               integer,
    overdue_count_3m            integer,
    overdue_count_6m            integer,
    overdue_count_12m           integer,
    min_payment_only_months     integer,
    on_time_full_payment_months integer,
    utilisation_ratio           double precision,
    -- spending
    txn_count_30d               integer,
    txn_amount_30d_fen          bigint,
    baseline_txn_count_30d      integer,
    baseline_txn_amount_30d_fen bigint,
    largest_txn_30d_fen         bigint,
    days_since_last_txn         integer,
    -- security, over the security window
    takeover_suspected_events   integer not null,
    device_change_events        integer not null,
    sim_change_events           integer not null,
    password_reset_events       integer not null,
    -- borrowing elsewhere
    inquiries_30d               integer,
    inquiries_90d               integer,
    external_debt_fen           bigint,
    external_debt_90d_ago_fen   bigint,
    -- restoration evidence
    verified_monthly_income_fen bigint
);
