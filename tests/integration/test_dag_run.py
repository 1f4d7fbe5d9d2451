"""The nightly DAG run through Airflow itself (``airflow dags test``) on a small portfolio: two
consecutive dates, then a re-run of the first, checked in the warehouse."""

from __future__ import annotations

from pathlib import Path

from checks import OUTPUT_TABLES, check_night, scalar, table
from conftest import FIRST_DATE, SECOND_DATE, airflow, load_portfolio, run_dag


def test_the_dag_reviews_two_nights_and_a_rerun_changes_nothing(airflow_env, warehouse):
    load_portfolio(warehouse, accounts=5000)
    # the first night resolves its date from the logical date, the second from the param
    run_dag(airflow_env, FIRST_DATE.isoformat())
    check_night(warehouse, FIRST_DATE)
    run_dag(airflow_env, "2026-11-28T00:00:00+00:00", {"review_date": SECOND_DATE.isoformat()})
    check_night(warehouse, SECOND_DATE)
    assert scalar(warehouse, "select count(*) from review_runs where status = 'reported'") == 2
    for review_date in (FIRST_DATE, SECOND_DATE):
        report = Path(scalar(warehouse, "select report_path from review_runs where review_date = :d", d=review_date))
        assert report.is_file() and (report.parent / "summary.json").is_file()

    snapshot = {name: table(warehouse, name) for name in OUTPUT_TABLES}
    run_dag(airflow_env, FIRST_DATE.isoformat())
    for name, frame in snapshot.items():
        assert table(warehouse, name).equals(frame), f"re-running {FIRST_DATE} changed {name}"


def test_bad_data_fails_the_dag_run_at_once_and_changes_nothing(airflow_env, warehouse):
    load_portfolio(warehouse, accounts=2000, bad_row_rate=0.05)
    before = table(warehouse, "accounts")
    output = airflow(airflow_env, "dags", "test", "post_loan_review", SECOND_DATE.isoformat(), expect_success=False)
    assert "AirflowFailException" in output and "score_in_range" in output  # no retry for bad data
    assert scalar(warehouse, "select count(*) from staged_decisions") == 0
    assert scalar(warehouse, "select count(*) from limit_decisions") == 0
    assert table(warehouse, "accounts").equals(before)
