-- shard_largest_changes: one reassessment shard's ten changes that removed the most drawable
-- exposure, restorations last (shard_counts.py); the run's ten are among the shards' tens.
-- Grain: one row per review date per run mode per shard count per shard per account, ten at most.
-- No primary key, for the reason shard_decision_counts has none.
create table if not exists shard_largest_changes (
    review_date          date    not null,
    run_mode             text    not null,
    shard_count          integer not null,
    shard                integer not null,
    account_id           bigint  not null,
    action               text    not null,
    old_limit_fen        bigint  not null,
    new_limit_fen        bigint  not null,
    old_status           text    not null,
    new_status           text    not null,
    reason_1             text,
    reason_2             text,
    guardrail            text,
    exposure_removed_fen bigint  not null  -- drawable limit before minus after, in fen
);
