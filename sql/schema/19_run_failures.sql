-- run_failures: every failed task attempt and missed deadline, recorded by the DAGs' failure
-- callbacks so a failure is seen even when nobody watches the Airflow UI.
-- Grain: one row per DAG run per task per try (task_id 'deadline' for a missed run deadline);
-- a callback that fires twice records once.
create table if not exists run_failures (
    dag_id       text    not null,
    run_id       text    not null,
    task_id      text    not null,
    try_number   integer not null,
    review_date  date,
    error        text    not null,
    recorded_at  timestamp not null,
    primary key (dag_id, run_id, task_id, try_number)
);
