-- Re-key limit_decisions by date first (keys_led_by_account.sql finds it): one rebuild of the
-- index over the whole history, under an exclusive lock. The date index is then redundant.
alter table limit_decisions
    drop constraint limit_decisions_pkey,
    add constraint limit_decisions_pkey primary key (review_date, account_id, arm);
drop index if exists limit_decisions_by_date;
