-- review_history: the headline figures of each reported run, written by build_report, so the
-- report's 30-review trend reads 30 rows instead of rescanning 30 nights of decisions and scores.
-- Grain: one row per review date per run mode; a re-run of the date replaces its row.
create table if not exists review_history (
    review_date          date    not null,
    run_mode             text    not null,
    policy_version       text    not null,
    accounts_reviewed    bigint  not null,
    changes              bigint  not null,
    lowered              bigint  not null,  -- decrease, to floor, freeze
    restored             bigint  not null,
    exposure_before_fen  bigint  not null,
    exposure_after_fen   bigint  not null,
    score_psi            double precision,
    quality_failed       integer not null,
    breaker_tripped      boolean not null,
    applied              boolean not null,  -- false for a dry run or an unapproved breached run
    primary key (review_date, run_mode)
);
