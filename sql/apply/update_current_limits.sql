-- Move the current limit and status of every account changed on one review date, unless a newer
-- review already set them, and with them the dates of its last decrease and increase
-- (01_accounts.sql). After the first run the guard makes this a no-op. One shard (shards.py) at
-- a time; shard 0 of 1 is every account. The shard is picked from the date's ledger rows, so only
-- the shard's changed accounts are looked up, not every change of the date.
-- SQLite's step: the same update as apply_shard_postgres's moved.
update accounts
set
    current_limit_fen = ledger.new_limit_fen,
    status = ledger.new_status,
    limit_set_by_review_date = :review_date,
    last_decrease_date = case
        when ledger.new_limit_fen < ledger.old_limit_fen then :review_date else accounts.last_decrease_date
    end,
    last_increase_date = case
        when ledger.new_limit_fen > ledger.old_limit_fen then :review_date else accounts.last_increase_date
    end
from limit_ledger as ledger
where ledger.account_id = accounts.account_id
  and ledger.review_date = :review_date
  and ((abs(ledger.account_id) / :shard_block % 2147483647) * 950706376 % 2147483647) % :shard_count = :shard
  and (accounts.limit_set_by_review_date is null or accounts.limit_set_by_review_date < :review_date)
