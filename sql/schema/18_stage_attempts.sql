-- stage_attempts: which attempt of a stage may commit. An attempt claims the stage when it
-- starts; just before it commits it confirms the claim is still its own. An older attempt that
-- wakes up after a newer one took over (a zombie worker, a cleared task) is refused, not merged.
-- Grain: one row per review date per run mode per stage.
create table if not exists stage_attempts (
    review_date   date    not null,
    run_mode      text    not null,
    stage         text    not null,
    attempt_id    text    not null,  -- e.g. <dag run id>/<task id>/<try number>, or a uuid from plr
    claimed_at    timestamp not null,
    committed_attempt_id text,       -- the attempt whose writes were committed last
    primary key (review_date, run_mode, stage)
);
