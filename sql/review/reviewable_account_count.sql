-- Accounts a snapshot should cover: every account that is not closed. The row-count check falls
-- back to it when there is no earlier snapshot to compare with (a first night).
select count(*) as reviewable_accounts from accounts where status <> 'closed'
