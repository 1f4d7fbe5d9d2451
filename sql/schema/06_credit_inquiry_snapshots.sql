-- credit_inquiry_snapshots: applications to other lenders and card issuers (多头借贷), and the
-- customer's debt elsewhere, as reported by the credit bureau on a snapshot date.
-- Grain: one row per account per snapshot date.
create table if not exists credit_inquiry_snapshots (
    account_id                  bigint  not null,
    snapshot_date               date    not null,
    inquiries_30d               integer not null,
    inquiries_90d               integer not null,
    external_debt_fen           bigint  not null,
    external_debt_90d_ago_fen   bigint  not null,
    primary key (snapshot_date, account_id)  -- read by date
);
