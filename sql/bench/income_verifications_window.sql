-- The benchmark's floor of every input: the income verifications of the policy's window before
-- the review date, with nothing else.
select * from income_verifications where verified_date > :window_start and verified_date <= :review_date
