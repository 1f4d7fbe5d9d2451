-- Rows per snapshot table on one date: the previous day's volume for the row-count check.
with

score_rows as (
    select 'credit_score_snapshots' as table_name, count(*) as row_count
    from credit_score_snapshots
    where snapshot_date = :snapshot_date
),

repayment_rows as (
    select 'repayment_snapshots' as table_name, count(*) as row_count
    from repayment_snapshots
    where snapshot_date = :snapshot_date
)

select * from score_rows
union all
select * from repayment_rows
