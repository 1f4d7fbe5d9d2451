-- Drop the primary keys of staging tables made before they had none (staging_keys.sql).
alter table review_inputs drop constraint if exists review_inputs_pkey;
alter table staged_decisions drop constraint if exists staged_decisions_pkey;
alter table staged_traces drop constraint if exists staged_traces_pkey;
