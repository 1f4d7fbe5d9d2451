-- quality_results: the outcome of every data-quality expectation run by validate_snapshots.
-- Grain: one row per review date per run mode per table per expectation.
create table if not exists quality_results (
    review_date      date    not null,
    run_mode         text    not null,
    table_name       text    not null,
    expectation      text    not null,  -- a stable rule name, e.g. score_in_range
    column_name      text,
    severity         text    not null,  -- critical | row
    success          boolean not null,
    unexpected_count integer not null,
    element_count    integer not null,
    details          text,
    primary key (review_date, run_mode, table_name, expectation)
);
