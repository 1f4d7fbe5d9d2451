-- The ids of every account in the account master: an import tells new accounts from known ones.
select account_id from accounts
