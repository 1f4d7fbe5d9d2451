-- shard_quality_results: the outcome of each data-quality expectation on one shard's snapshot
-- rows (validate_snapshots runs once per shard). The quality gate adds the shards up into
-- quality_results, judging the whole book.
-- Grain: one row per review date per run mode per shard count per shard per table per expectation.
create table if not exists shard_quality_results (
    review_date      date    not null,
    run_mode         text    not null,
    shard_count      integer not null,
    shard            integer not null,
    table_name       text    not null,
    expectation      text    not null,
    column_name      text,
    severity         text    not null,  -- critical | row
    success          boolean not null,  -- on this shard alone
    unexpected_count integer not null,
    element_count    integer not null,
    missing_count    integer not null,  -- values the expectation ignored (nulls, for most rules)
    error            text,              -- the expectation raised instead of answering
    primary key (review_date, run_mode, shard_count, shard, table_name, expectation)
);
