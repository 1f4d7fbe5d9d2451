-- Drop the primary key of a review_inputs made before it had none (review_inputs_key.sql).
alter table review_inputs drop constraint if exists review_inputs_pkey
