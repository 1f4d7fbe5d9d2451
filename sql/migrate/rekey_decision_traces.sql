-- Re-key decision_traces by date first, as rekey_limit_decisions.sql does limit_decisions.
alter table decision_traces
    drop constraint decision_traces_pkey,
    add constraint decision_traces_pkey primary key (review_date, account_id, arm, step);
