-- Set each account's last decrease and increase dates from its latest ledger rows: once, when
-- add_account_change_dates.sql added the columns; apply keeps them from then on.
update accounts
set
    last_decrease_date = changes.last_decrease_date,
    last_increase_date = changes.last_increase_date
from (
    select
        account_id,
        max(case when new_limit_fen < old_limit_fen then review_date end) as last_decrease_date,
        max(case when new_limit_fen > old_limit_fen then review_date end) as last_increase_date
    from limit_ledger
    group by account_id
) as changes
where changes.account_id = accounts.account_id;
