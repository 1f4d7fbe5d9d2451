-- repayment_snapshots: the repayment position of each account as of a snapshot date.
-- Grain: one row per account per snapshot date.
-- Tests beside it: validate_snapshots (non-negative amounts and counts, utilisation 0..5).
create table if not exists repayment_snapshots (
    account_id                  bigint  not null,
    snapshot_date               date    not null,
    -- money, in fen
    statement_balance_fen       bigint,
    minimum_due_fen             bigint,
    amount_paid_fen             bigint,
    -- delinquency
    days_past_due               integer,
    overdue_count_3m            integer,
    overdue_count_6m            integer,
    overdue_count_12m           integer,
    -- habits
    min_payment_only_months     integer,  -- consecutive cycles paying only the minimum
    on_time_full_payment_months integer,  -- consecutive cycles repaid on time and in full
    utilisation_ratio           double precision,  -- balance / limit; a ratio, not money
    primary key (snapshot_date, account_id)  -- read by date
);
