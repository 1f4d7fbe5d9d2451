-- Record one failure; a second call for the same attempt changes nothing.
insert into run_failures (dag_id, run_id, task_id, try_number, review_date, error, recorded_at)
values (:dag_id, :run_id, :task_id, :try_number, :review_date, :error, current_timestamp)
on conflict (dag_id, run_id, task_id, try_number) do nothing
