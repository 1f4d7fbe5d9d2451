"""
# Backtest (回测): would a policy have cut the limits of the customers who later defaulted?

Replays the six months of the public UCI credit-card data (April-September 2005) through the real
nightly pipeline with a chosen policy, month by month and from each month's own snapshots only,
in a warehouse of its own; then scores the decisions against what happened next (60+ days past
due in a later month; the October default for the September review). Writes `report.html` and
`summary.json` under `<reports>/backtest/<policy>/`. See docs/backtest.md.

| task | what it does |
|---|---|
| `replay_months` | rebuild the backtest warehouse, import each month through the input contract and its gate, review it live |
| `score_decisions` | score the replayed decisions, write the report and the JSON summary |

**Params**: `policy` (a file of `include/policies/`), `sample_size` (the first N accounts; 0 = all
30,000), `database_url` (the backtest's own warehouse; empty = `.local/backtest/warehouse.db`).
The same without Airflow: `plr backtest [--policy v4] [--sample N]`.
Data: UCI dataset 350, doi:10.24432/C55S3H, CC BY 4.0 (Yeh & Lien 2009).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

POLICY_VERSIONS = sorted(p.stem for p in (Path(__file__).parents[1] / "include" / "policies").glob("*.yaml"))


@dag(
    dag_id="backtest",
    dag_display_name="Backtest on real data (UCI 2005)",
    description="Replay past months through the pipeline with a policy and score it against later outcomes",
    doc_md=__doc__,
    schedule=None,
    start_date=pendulum.datetime(2026, 11, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,  # one backtest warehouse
    default_args={"owner": "risk-platform", "retries": 1, "retry_delay": timedelta(minutes=2),
                  "execution_timeout": timedelta(hours=1)},  # the whole 30,000-account replay takes minutes
    params={
        "policy": Param("v4" if "v4" in POLICY_VERSIONS else POLICY_VERSIONS[0], type="string",
                        enum=POLICY_VERSIONS or ["v1"], title="Policy", description="The policy to replay"),
        "sample_size": Param(0, type="integer", minimum=0, title="Sample size",
                             description="The first N accounts of the file; 0 = all 30,000"),
        "database_url": Param("", type="string", title="Backtest warehouse",
                              description="SQLAlchemy URL of the backtest's own warehouse (rebuilt); empty = default"),
    },
    tags=["credit-risk", "post-loan", "backtest"],
)
def backtest():
    @task
    def replay_months() -> dict:
        from post_loan_review import backtest as bt
        from post_loan_review import uci

        params = get_current_context()["params"]
        raw = uci.read_uci(nrows=params["sample_size"] or None)
        url = params["database_url"] or bt.default_database_url()
        return {**bt.replay_uci(raw, params["policy"], url, progress=print), "database_url": url}

    @task
    def score_decisions(replay: dict) -> dict:
        from post_loan_review import backtest as bt

        params = get_current_context()["params"]
        summary = bt.score_replay(replay, params["sample_size"] or None)
        return {"report_path": summary["report_path"], "final_review": {
            k: v for k, v in summary["final_review"].items() if k != "by_action"}}

    score_decisions(replay_months())


backtest()
