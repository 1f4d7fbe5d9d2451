-- review_runs: one nightly review of the portfolio.
-- Grain: one row per review date per run mode (live | dry_run); a re-run updates its row.
create table if not exists review_runs (
    review_date         date    not null,
    run_mode            text    not null,
    policy_version      text    not null,
    status              text    not null,  -- extracted | validated | reassessed | applied | notified | reported | failed
    accounts_extracted  integer,
    accounts_reviewed   integer,
    rows_quarantined    integer,
    changes_applied     integer,
    notifications_queued integer,
    report_path         text,
    error_message       text,
    updated_at          timestamp not null,
    primary key (review_date, run_mode)
);
