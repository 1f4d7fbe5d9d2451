-- limit_ledger: append-only audit trail of every limit or status change that was applied.
-- Grain: one row per applied change, at most one per account per review date.
-- Rows are never updated or deleted; limits as of any date are rebuilt from here.
-- Keyed by date first, as limit_decisions is, so a night's rows append to the index.
create table if not exists limit_ledger (
    account_id      bigint  not null,
    review_date     date    not null,
    policy_version  text    not null,
    action          text    not null,
    old_limit_fen   bigint  not null,
    new_limit_fen   bigint  not null,
    old_status      text    not null,
    new_status      text    not null,
    reason_1        text,
    primary key (review_date, account_id)
);
