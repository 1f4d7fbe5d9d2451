-- Re-key limit_ledger by date first, as rekey_limit_decisions.sql does limit_decisions.
alter table limit_ledger
    drop constraint limit_ledger_pkey,
    add constraint limit_ledger_pkey primary key (review_date, account_id);
drop index if exists limit_ledger_by_date;
