-- accounts: the account master.
-- Grain: one row per account.
-- current_limit_fen is the limit in force now; limit_set_by_review_date names the review that set
-- it, so a backfill of an older date never overwrites a limit set by a newer review.
-- last_decrease_date and last_increase_date are the latest reviews that lowered and raised the
-- limit (the latest such rows of limit_ledger), kept by apply beside the limit: the night's
-- extract reads them here instead of aggregating the whole ledger, which grows every night.
create table if not exists accounts (
    account_id                bigint  not null primary key,
    customer_id               bigint  not null,
    open_date                 date    not null,
    segment                   text    not null,
    preferred_language        text    not null default 'zh-CN',
    -- limits, in fen (1 yuan = 100 fen)
    approved_limit_fen        bigint  not null,
    current_limit_fen         bigint  not null,
    customer_cap_fen          bigint,
    outstanding_balance_fen   bigint  not null,
    -- state
    status                    text    not null,  -- active | frozen | closed
    has_open_appeal           boolean not null default false,
    refused_automated_decisions boolean not null default false,  -- PIPL Art. 24: a person decides
    limit_set_by_review_date  date,
    last_decrease_date        date,
    last_increase_date        date
);
