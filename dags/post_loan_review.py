"""
# Nightly post-loan review (贷后额度复核)

Re-reviews every open account of the credit-line portfolio and moves limits under a versioned
policy, then tells the customers what changed and why.

| task | what it does |
|---|---|
| `resolve_review_date` | the one review date of the run: the `review_date` param, else the data interval end, else the logical date (Asia/Shanghai calendar); checks the policy loads |
| `extract_snapshots` | stages score, repayment, spending, security, inquiry and income data as of that date into `review_inputs` |
| `validate_snapshots` | Great Expectations suites on the snapshots; quarantines bad rows; **stops the run** on a critical failure |
| `reassess_accounts` | features, policy rules and guardrails: one decision per account with up to four reason codes |
| `check_portfolio` | the breaker: too many decreases, too much exposure moved, or score drift (PSI) → `approve_changes` (a person approves; reject or a 6 h timeout applies nothing); else `no_approval_needed` |
| `apply_limit_changes` | in one transaction: `limit_decisions`, the append-only `limit_ledger`, new current limits (skipped in a dry run) |
| `queue_notifications` | one zh-CN / en notice per change in the `notifications` outbox (skipped in a dry run) |
| `build_report` | HTML report with charts, `decisions.csv` and `summary.json` for the date |

**Params**: `review_date` (YYYY-MM-DD, empty = from the schedule), `dry_run` (decide and report,
write no limit, ledger or notification), `policy` (a file of `include/policies/`).

Re-running a date is safe: every write is keyed by the review date and skips what is already there.
Backfills (`airflow backfill create --dag-id post_loan_review --from-date ... --to-date ...`) decide
each date from that date's snapshots and never overwrite a limit set by a newer review.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import Asset, CronTriggerTimetable, Param, dag, get_current_context, task

from post_loan_review.assets import NOTIFICATIONS_ASSET_URI
from post_loan_review.callbacks import run_failed, task_failed

POLICY_VERSIONS = sorted(p.stem for p in (Path(__file__).parents[1] / "include" / "policies").glob("*.yaml"))


@dag(
    dag_id="post_loan_review",
    dag_display_name="Post-loan review (nightly)",
    description="Nightly credit-line review: pull, validate, reassess, apply, notify, report",
    doc_md=__doc__,
    schedule=CronTriggerTimetable("0 2 * * *", timezone="Asia/Shanghai"),
    start_date=pendulum.datetime(2026, 11, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args={
        "owner": "risk-platform",
        "retries": 2,
        "retry_delay": timedelta(minutes=5),
        "retry_exponential_backoff": True,
        "execution_timeout": timedelta(hours=1),
        "on_failure_callback": task_failed,
    },
    # the night's review must be done within six hours (before the business day): a run still going
    # then fails, and the DAG's failure callback records and alerts. (Airflow 3.3's DeadlineAlert
    # breaks `airflow dags test` on SQLite metadata: 'dict' object has no attribute 'hex'.)
    dagrun_timeout=timedelta(hours=6),
    on_failure_callback=run_failed,
    params={
        "review_date": Param(None, type=["null", "string"], format="date",
                             title="Review date", description="Snapshot date to review; empty = from the schedule"),
        "dry_run": Param(False, type="boolean", title="Dry run",
                         description="Decide and report only: no limit, ledger or notification is written"),
        "policy": Param(POLICY_VERSIONS[0] if POLICY_VERSIONS else "v1", type="string", enum=POLICY_VERSIONS or ["v1"],
                        title="Policy version", description="A policy file of include/policies/"),
    },
    tags=["credit-risk", "post-loan", "nightly"],
)
def post_loan_review():
    def attempt() -> str:
        """This try of this task: a stage commits only while it is the latest attempt."""
        ti = get_current_context()["ti"]
        return f"{ti.run_id}/{ti.task_id}/{ti.try_number}"

    @task
    def resolve_review_date() -> dict:
        from post_loan_review import stages

        context = get_current_context()
        params = context["params"]
        return stages.resolve_review_date(params.get("review_date"), bool(params.get("dry_run")),
                                          params.get("policy"), context.get("data_interval_end"),
                                          context.get("logical_date"))

    @task
    def extract_snapshots(run: dict) -> dict:
        from post_loan_review import stages

        return stages.extract_snapshots(run, attempt())

    @task
    def validate_snapshots(run: dict, extracted: dict) -> dict:
        from airflow.sdk.exceptions import AirflowFailException

        from post_loan_review import quality, stages

        try:
            return stages.validate_snapshots(run, extracted["previous_snapshot_date"], attempt())
        except quality.QualityGateError as error:
            if error.retryable:  # the feed may still arrive: let Airflow retry
                raise
            raise AirflowFailException(str(error)) from error  # bad data: retrying cannot help

    @task
    def reassess_accounts(run: dict, validated: dict) -> dict:
        from post_loan_review import stages

        return stages.reassess_accounts(run, attempt())

    @task.branch
    def check_portfolio(run: dict, reassessed: dict) -> str:
        from post_loan_review import stages

        result = stages.check_portfolio(run, attempt())
        get_current_context()["ti"].xcom_push(key="breaker", value=result)
        return "approve_changes" if result["breached"] and run["run_mode"] == "live" else "no_approval_needed"

    @task(trigger_rule="none_failed_min_one_success")
    def apply_limit_changes(run: dict, reassessed: dict) -> dict:
        from post_loan_review import stages

        return stages.apply_limit_changes(run, attempt())

    @task(outlets=[Asset(NOTIFICATIONS_ASSET_URI)])
    def queue_notifications(run: dict, applied: dict) -> dict:
        from post_loan_review import stages

        return stages.queue_notifications(run, attempt())

    @task(trigger_rule="none_failed")  # also after a rejected approval: the report says nothing was applied
    def build_report(run: dict, queued: dict) -> dict:
        from post_loan_review import stages

        return stages.build_report(run, attempt())

    run = resolve_review_date()
    extracted = extract_snapshots(run)
    validated = validate_snapshots(run, extracted)
    reassessed = reassess_accounts(run, validated)
    guard = check_portfolio(run, reassessed)
    approval = ApprovalOperator(
        task_id="approve_changes",
        subject="Portfolio breaker: apply tonight's limit changes?",
        body="The review tripped the portfolio breaker: "
             "{{ ti.xcom_pull(task_ids='check_portfolio', key='breaker')['reasons'] | join('; ') }}. "
             "Read the dry-run figures before approving. Reject, or no answer within 6 hours, applies nothing.",
        defaults=["Reject"],
        response_timeout=timedelta(hours=6),
        retries=0,
    )
    no_approval = EmptyOperator(task_id="no_approval_needed")
    applied = apply_limit_changes(run, reassessed)
    guard >> [approval, no_approval] >> applied
    queued = queue_notifications(run, applied)
    build_report(run, queued)


post_loan_review()
