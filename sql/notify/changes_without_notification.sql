-- Applied changes of one review date that have no notification on the channel yet, with the
-- reasons and the customer's language. Grain: one row per account changed on the review date,
-- of one shard (shards.py; shard 0 of 1 is every account).
with

changes as (
    select account_id, review_date, action, old_limit_fen, new_limit_fen
    from limit_ledger
    where review_date = :review_date
      and ((abs(account_id) / :shard_block % 2147483647) * 950706376 % 2147483647) % :shard_count = :shard
),

final as (
    select
        changes.account_id,
        changes.review_date,
        changes.action,
        changes.old_limit_fen,
        changes.new_limit_fen,
        decisions.reason_1,
        decisions.reason_2,
        decisions.reason_3,
        decisions.reason_4,
        accounts.preferred_language as language
    from changes
    join limit_decisions as decisions
      on decisions.account_id = changes.account_id
     and decisions.review_date = changes.review_date
     and decisions.is_applied
    join accounts on accounts.account_id = changes.account_id
    where not exists (
        select 1 from notifications
        where notifications.account_id = changes.account_id
          and notifications.review_date = changes.review_date
          and notifications.channel = :channel
    )
)

select * from final
