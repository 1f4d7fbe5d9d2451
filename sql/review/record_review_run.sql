-- Upsert one review run's status. A count passed as null with keep_<column> true keeps its value;
-- with keep_failed true a status of failed stays (a stage that ran beside the one that failed).
insert into review_runs (
    review_date, run_mode, policy_version, status,
    accounts_extracted, accounts_reviewed, rows_quarantined, changes_applied,
    notifications_queued, report_path, error_message, updated_at
)
values (
    :review_date, :run_mode, :policy_version, :status,
    :accounts_extracted, :accounts_reviewed, :rows_quarantined, :changes_applied,
    :notifications_queued, :report_path, :error_message, current_timestamp
)
on conflict (review_date, run_mode) do update set
    policy_version       = excluded.policy_version,
    status               = case when :keep_failed and review_runs.status = 'failed'
                                then review_runs.status else excluded.status end,
    accounts_extracted   = case when :keep_accounts_extracted then review_runs.accounts_extracted else excluded.accounts_extracted end,
    accounts_reviewed    = case when :keep_accounts_reviewed then review_runs.accounts_reviewed else excluded.accounts_reviewed end,
    rows_quarantined     = case when :keep_rows_quarantined then review_runs.rows_quarantined else excluded.rows_quarantined end,
    changes_applied      = case when :keep_changes_applied then review_runs.changes_applied else excluded.changes_applied end,
    notifications_queued = case when :keep_notifications_queued then review_runs.notifications_queued else excluded.notifications_queued end,
    report_path          = case when :keep_report_path then review_runs.report_path else excluded.report_path end,
    error_message        = case when :keep_error_message then review_runs.error_message else excluded.error_message end,
    updated_at           = excluded.updated_at
