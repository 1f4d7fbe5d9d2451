-- Protected attributes by account, for the backtest's fairness slice only (never for a decision).
-- Grain: one row per account.
select accounts.account_id, profiles.birth_year, profiles.sex
from accounts
left join customer_profiles as profiles on profiles.customer_id = accounts.customer_id
