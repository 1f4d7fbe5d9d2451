-- decision_traces: the trace of every recorded live decision, copied from staged_traces by
-- apply_limit_changes in the same transaction as the decision, once.
-- Grain: one row per account per review date per arm per step.
-- Keyed by date first, as limit_decisions is, so a night's rows append to the index.
create table if not exists decision_traces (
    account_id      bigint  not null,
    review_date     date    not null,
    arm             text    not null,
    step            integer not null,
    kind            text    not null,
    code            text    not null,
    feature         text,
    operator        text,
    threshold       double precision,
    observed_value  double precision,
    held            boolean not null,
    detail          text    not null,
    primary key (review_date, account_id, arm, step)
);
