-- accounts: the account master.
-- Grain: one row per account.
-- current_limit_fen is the limit in force now; limit_set_by_review_date names the review that set
-- it, so a backfill of an older date never overwrites a limit set by a newer review.
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
    limit_set_by_review_date  date
);
