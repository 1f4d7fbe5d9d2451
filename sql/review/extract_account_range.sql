-- The range of account ids of one extract part, as plan_extract drew it. No row: the book had
-- fewer accounts than parts.
select first_account_id, last_account_id
from extract_account_ranges
where review_date = :review_date
  and run_mode = :run_mode
  and part_count = :part_count
  and part = :part
