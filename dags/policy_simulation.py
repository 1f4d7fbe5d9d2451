"""
# Policy simulation (策略模拟): what if a candidate policy had run on past dates

Runs a candidate policy of `include/policies/` over past review dates and compares it, date by
date, with what was decided then (the decisions recorded in `limit_decisions`; for a date never
reviewed live, the champion policy decided on the same inputs). **Nothing is applied**: no
decision, limit, ledger row or customer notice is written; only the simulation's own staging rows
(run mode `simulation`) and its reports.

| task | what it does |
|---|---|
| `resolve_dates` | the dates from `from_date` to `to_date` (both included, 31 at most) |
| `simulate_date` | one mapped task per date: stage the date's inputs, run the quality gate, decide with the candidate, compare, write `simulation.html`, `changes.csv`, `summary.json` under `<reports>/<date>/simulation/<policy>/` |
| `summarise` | changed accounts and exposure change per date, and the report paths |

**Params**: `candidate_policy` (a file of `include/policies/`), `from_date` (YYYY-MM-DD),
`to_date` (YYYY-MM-DD, empty = `from_date`). Manual only: trigger it with the form, or
`airflow dags trigger policy_simulation --conf '{"candidate_policy": "v1", "from_date": "2026-11-27"}'`.
The same for one date without Airflow: `plr simulate --policy FILE --date D`.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

POLICY_VERSIONS = sorted(p.stem for p in (Path(__file__).parents[1] / "include" / "policies").glob("*.yaml"))
MAX_PARALLEL_DATES = 4  # a SQLite warehouse has one writer: do not queue a month of writers at once


@dag(
    dag_id="policy_simulation",
    dag_display_name="Policy simulation (what if)",
    description="Run a candidate policy on past review dates and compare; applies nothing",
    doc_md=__doc__,
    schedule=None,
    start_date=pendulum.datetime(2026, 11, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,  # simulations of one date share its staging rows
    default_args={
        "owner": "risk-platform",
        "retries": 1,
        "retry_delay": timedelta(minutes=2),
    },
    params={
        "candidate_policy": Param(POLICY_VERSIONS[0] if POLICY_VERSIONS else "v1", type="string",
                                  enum=POLICY_VERSIONS or ["v1"], title="Candidate policy",
                                  description="The policy file of include/policies/ to try"),
        "from_date": Param(type="string", format="date", title="From date",
                           description="The first review date to simulate"),
        "to_date": Param(None, type=["null", "string"], format="date", title="To date",
                         description="The last review date to simulate (empty = from date; 31 dates at most)"),
    },
    tags=["credit-risk", "post-loan", "simulation"],
)
def policy_simulation():
    @task
    def resolve_dates() -> list[str]:
        from airflow.sdk.exceptions import AirflowFailException

        from post_loan_review import simulation

        params = get_current_context()["params"]
        try:
            return simulation.resolve_dates(params["from_date"], params.get("to_date"))
        except ValueError as error:  # a wrong range: retrying cannot help
            raise AirflowFailException(str(error)) from error

    @task(max_active_tis_per_dagrun=MAX_PARALLEL_DATES)
    def simulate_date(review_date: str) -> dict:
        from airflow.sdk.exceptions import AirflowFailException

        from post_loan_review import quality, simulation

        try:
            return simulation.simulate_date(review_date, get_current_context()["params"]["candidate_policy"])
        except quality.QualityGateError as error:
            if error.retryable:  # the feed may still arrive
                raise
            raise AirflowFailException(str(error)) from error

    @task
    def summarise(results: list[dict]) -> dict:
        from post_loan_review import simulation

        return simulation.summarise(list(results[:]))  # one slice read, not one read per date

    summarise(simulate_date.expand(review_date=resolve_dates()))


policy_simulation()
