-- credit_score_snapshots: the credit score of each account as of a snapshot date.
-- Grain: one row per account per snapshot date.
-- Tests beside it: validate_snapshots (score 350..950, not null, unique per date, known account).
create table if not exists credit_score_snapshots (
    account_id     bigint  not null,
    snapshot_date  date    not null,
    score          integer,
    model_version  text,
    primary key (snapshot_date, account_id)  -- read by date
);
