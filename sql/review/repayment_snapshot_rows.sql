-- The repayment snapshot rows of one date, each with its account id as found in accounts
-- (null when the snapshot names an unknown account), for validate_snapshots.
select
    repayments.*,
    accounts.account_id as known_account_id
from repayment_snapshots as repayments
left join accounts on accounts.account_id = repayments.account_id
where repayments.snapshot_date = :snapshot_date
