-- spending_snapshots: 30-day spending aggregates against the customer's own baseline.
-- Grain: one row per account per snapshot date.
create table if not exists spending_snapshots (
    account_id                   bigint  not null,
    snapshot_date                date    not null,
    txn_count_30d                integer not null,
    txn_amount_30d_fen           bigint  not null,
    baseline_txn_count_30d       integer not null,  -- the customer's own usual 30-day count
    baseline_txn_amount_30d_fen  bigint  not null,
    largest_txn_30d_fen          bigint  not null,
    days_since_last_txn          integer not null,
    primary key (snapshot_date, account_id)  -- read by date
);
