-- Move the current limit and status of every account changed on one review date, unless a newer
-- review already set them. After the first run the guard makes this a no-op. One shard
-- (shards.py) at a time; shard 0 of 1 is every account. The shard is picked from the date's
-- ledger rows, so only the shard's changed accounts are looked up, not every change of the date.
-- SQLite's step (see apply_shard_postgres).
update accounts
set
    current_limit_fen = (
        select ledger.new_limit_fen from limit_ledger as ledger
        where ledger.account_id = accounts.account_id and ledger.review_date = :review_date
    ),
    status = (
        select ledger.new_status from limit_ledger as ledger
        where ledger.account_id = accounts.account_id and ledger.review_date = :review_date
    ),
    limit_set_by_review_date = :review_date,
    -- the dates of the last decrease and increase move with the limit (01_accounts.sql)
    last_decrease_date = coalesce((
        select :review_date from limit_ledger as ledger
        where ledger.account_id = accounts.account_id and ledger.review_date = :review_date
          and ledger.new_limit_fen < ledger.old_limit_fen
    ), last_decrease_date),
    last_increase_date = coalesce((
        select :review_date from limit_ledger as ledger
        where ledger.account_id = accounts.account_id and ledger.review_date = :review_date
          and ledger.new_limit_fen > ledger.old_limit_fen
    ), last_increase_date)
where account_id in (
    select ledger.account_id from limit_ledger as ledger
    where ledger.review_date = :review_date
      and ((abs(ledger.account_id) / :shard_block % 2147483647) * 950706376 % 2147483647) % :shard_count = :shard
)
  and (limit_set_by_review_date is null or limit_set_by_review_date < :review_date)
