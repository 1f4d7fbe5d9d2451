-- Decreases and freezes of one run by the customers' protected attributes, which no decision
-- reads: the report's fairness slice. Age is in whole years at the review (birth year only).
-- Grain: one row per age band per sex per education per marital status ('unknown' when missing).
with

decisions as (
    select account_id, action
    from staged_decisions
    where review_date = :review_date
      and run_mode = :run_mode
      and applies  -- the arm that decides each account
),

profiles as (
    select
        accounts.account_id,
        customer_profiles.birth_year,
        customer_profiles.sex,
        customer_profiles.education,
        customer_profiles.marital_status
    from accounts
    join customer_profiles on customer_profiles.customer_id = accounts.customer_id
),

described as (
    select
        decisions.action,
        case
            when profiles.birth_year is null then 'unknown'
            when :review_year - profiles.birth_year < 25 then '18-24'
            when :review_year - profiles.birth_year < 35 then '25-34'
            when :review_year - profiles.birth_year < 45 then '35-44'
            when :review_year - profiles.birth_year < 55 then '45-54'
            else '55+'
        end as age_band,
        coalesce(profiles.sex, 'unknown') as sex,
        coalesce(profiles.education, 'unknown') as education,
        coalesce(profiles.marital_status, 'unknown') as marital_status
    from decisions
    left join profiles on profiles.account_id = decisions.account_id
),

final as (
    select
        age_band,
        sex,
        education,
        marital_status,
        count(*) as accounts,
        sum(case when action in ('DECREASE', 'DECREASE_TO_FLOOR') then 1 else 0 end) as decreases,
        sum(case when action = 'FREEZE' then 1 else 0 end) as freezes
    from described
    group by age_band, sex, education, marital_status
)

select * from final
