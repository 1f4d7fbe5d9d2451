-- quarantined_rows: snapshot rows that broke a row-level rule; their accounts get no action.
-- Grain: one row per review date per run mode per table per account per rule.
create table if not exists quarantined_rows (
    review_date  date    not null,
    run_mode     text    not null,
    table_name   text    not null,
    account_id   bigint  not null,
    rule         text    not null,
    column_name  text    not null,
    bad_value    text,
    primary key (review_date, run_mode, table_name, account_id, rule)
);
