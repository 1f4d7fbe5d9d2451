-- income_verifications: stable income the customer proved (收入证明), restoration evidence.
-- Grain: one row per account per verification date.
create table if not exists income_verifications (
    account_id          bigint  not null,
    verified_date       date    not null,
    monthly_income_fen  bigint  not null,
    primary key (account_id, verified_date)
);
