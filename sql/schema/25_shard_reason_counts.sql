-- shard_reason_counts: one reassessment shard's reason codes over reason_1..reason_4 of the
-- deciding arm's decisions, with the exposure those decisions moved (shard_counts.py).
-- Grain: one row per review date per run mode per shard count per shard per reason code.
-- No primary key, for the reason shard_decision_counts has none.
create table if not exists shard_reason_counts (
    review_date         date    not null,
    run_mode            text    not null,
    shard_count         integer not null,
    shard               integer not null,
    code                text    not null,
    accounts            bigint  not null,  -- a code appears at most once per decision
    exposure_change_fen bigint  not null  -- drawable limit after minus before, in fen
);
