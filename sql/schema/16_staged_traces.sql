-- staged_traces: why each staged decision came out as it did, written by reassess_accounts with
-- the decisions: every check of every rule that fired (the value seen against the threshold) and
-- every guardrail that changed or blocked the proposal.
-- Grain: one row per review date per run mode per account per arm per step.
-- No primary key, for the reasons staged_decisions has none; decision_traces' key refuses a
-- second trace of a step when apply records them.
create table if not exists staged_traces (
    review_date     date    not null,
    run_mode        text    not null,
    account_id      bigint  not null,
    arm             text    not null,
    step            integer not null,  -- rules in policy order, then guardrails in the order they act
    kind            text    not null,  -- rule | guardrail
    code            text    not null,  -- rule code or guardrail name
    feature         text,
    operator        text,
    threshold       double precision,
    observed_value  double precision,
    held            boolean not null,  -- did this check hold (a rule with 'or' fires on some)
    detail          text    not null  -- in words: 'days_past_due = 12 > 5'
);
