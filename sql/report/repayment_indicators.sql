-- The repayment habits of the book on one snapshot date, in buckets: days past due, consecutive
-- months paying only the minimum, utilisation. A missing or negative value is 'unknown'.
-- Grain: one row per days-past-due bucket per minimum-payment bucket per utilisation band.
with

repayments as (
    select days_past_due, min_payment_only_months, utilisation_ratio
    from repayment_snapshots
    where snapshot_date = :snapshot_date
),

bucketed as (
    select
        case
            when days_past_due is null or days_past_due < 0 then 'unknown'
            when days_past_due = 0 then 'current'
            when days_past_due <= 30 then '1-30'
            when days_past_due <= 60 then '31-60'
            when days_past_due <= 90 then '61-90'
            else '90+'
        end as dpd_bucket,
        case
            when min_payment_only_months is null or min_payment_only_months < 0 then 'unknown'
            when min_payment_only_months = 0 then '0'
            when min_payment_only_months <= 2 then '1-2'
            when min_payment_only_months <= 5 then '3-5'
            else '6+'
        end as min_payment_bucket,
        case
            when utilisation_ratio is null or utilisation_ratio < 0 then 'unknown'
            when utilisation_ratio < 0.3 then '<30%'
            when utilisation_ratio < 0.7 then '30-70%'
            when utilisation_ratio <= 1.0 then '70-100%'
            else '>100%'
        end as utilisation_band
    from repayments
),

final as (
    select dpd_bucket, min_payment_bucket, utilisation_band, count(*) as accounts
    from bucketed
    group by dpd_bucket, min_payment_bucket, utilisation_band
)

select * from final
