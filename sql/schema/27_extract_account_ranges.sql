-- extract_account_ranges: the ranges of consecutive account ids that a run's extract stages one
-- per task (plan_extract draws them, each extract_snapshots part reads its own), kept in the
-- warehouse because they are account ids, which no XCom or log may show.
-- Grain: one row per review date per run mode per part count per part. No primary key, as the
-- staging tables have none: a newer plan must not wait on a lost attempt's uncommitted rows.
create table if not exists extract_account_ranges (
    review_date      date    not null,
    run_mode         text    not null,
    part_count       integer not null,
    part             integer not null,  -- 0 .. part_count - 1
    first_account_id bigint  not null,
    last_account_id  bigint  not null
);
