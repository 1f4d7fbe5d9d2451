-- The dates of each account's last decrease and increase (sql/schema/01_accounts.sql), added to
-- an accounts table made before it had them; fill_account_change_dates.sql fills them.
alter table accounts add column last_decrease_date date;
alter table accounts add column last_increase_date date;
