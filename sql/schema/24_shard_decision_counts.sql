-- shard_decision_counts: one reassessment shard's decisions counted as check_portfolio and the
-- report need them (shard_counts.py), written with the shard's staged decisions and replaced with
-- them; sql/report/ adds up the shards of the run's shard count.
-- Grain: one row per review date per run mode per shard count per shard per arm per policy version
-- per applies per action per guardrail.
-- No primary key, as staged_decisions has none: two attempts of one shard at once (a worker
-- thought lost) must not make the newer wait on the older's uncommitted rows, when the older can
-- never commit (stage_attempts); each attempt deletes the shard's rows before it writes them.
create table if not exists shard_decision_counts (
    review_date         date    not null,
    run_mode            text    not null,
    shard_count         integer not null,
    shard               integer not null,
    arm                 text    not null,  -- champion | challenger
    policy_version      text    not null,
    applies             boolean not null,
    action              text    not null,
    guardrail           text,
    accounts            bigint  not null,
    changes             bigint  not null,  -- decisions that moved the limit or the status
    exposure_before_fen bigint  not null,  -- the limits of active accounts before, in fen
    exposure_after_fen  bigint  not null,  -- and after
    limit_change_fen    bigint  not null   -- new limit minus old, whatever the status
);
