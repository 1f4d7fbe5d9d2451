-- Every snapshot at which an account was at least the given days past due: the later outcome a
-- replayed decision is scored by. Grain: one row per account per snapshot date.
select account_id, snapshot_date
from repayment_snapshots
where days_past_due >= :bad_days
