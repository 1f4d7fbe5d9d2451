"""
# Nightly post-loan review (贷后额度复核)

Re-reviews every open account of the credit-line portfolio and moves limits under a versioned
policy, then tells the customers what changed and why.

| task | what it does |
|---|---|
| `resolve_review_date` | the one review date of the run: the `review_date` param, else the data interval end, else the logical date (Asia/Shanghai calendar); checks the policy loads |
| `plan_shards` | the shards (N) that the next stages map over |
| `extract_snapshots` | stages score, repayment, spending, security, inquiry and income data as of that date into `review_inputs` |
| `validate_snapshots` ×N | Great Expectations suites on one shard's snapshot rows; quarantines its bad rows (runs beside `extract_snapshots`: neither reads what the other writes) |
| `quality_gate` | adds the shards' results up and judges the whole book (row counts, share of bad rows); **stops the run** on a failure |
| `reassess_accounts` ×N | features, policy rules and guardrails for one shard: one decision per account with up to four reason codes |
| `check_portfolio` | the breaker: too many decreases, too much exposure moved, or score drift (PSI) → `approve_changes` (a person approves; reject or a 6 h timeout applies nothing); else `no_approval_needed` |
| `apply_limit_changes` ×N | in one transaction per shard: `limit_decisions`, the append-only `limit_ledger`, new current limits and one zh-CN / en notice per change in the `notifications` outbox (skipped in a dry run) |
| `queue_notifications` | once every shard is applied: the run's totals, and the outbox announced to the dispatcher (skipped in a dry run) |
| `build_report` | HTML report with charts, `decisions.csv` and `summary.json` for the date |

**Params**: `review_date` (YYYY-MM-DD, empty = from the schedule), `dry_run` (decide and report,
write no limit, ledger or notification), `policy` (a file of `include/policies/`), `shards` (N:
the heavy stages map over N shards of the book, split by a stable hash of the account id, so the
executor spreads them over workers and a failed shard retries alone; empty = `PLR_SHARDS`, 4).

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
        "shards": Param(None, type=["null", "integer"], minimum=1, maximum=64, title="Shards",
                        description="Split validation, reassessment and apply into this many parallel tasks; "
                                    "empty = the PLR_SHARDS setting (4)"),
    },
    tags=["credit-risk", "post-loan", "nightly"],
)
def post_loan_review():
    def attempt() -> str:
        """This try of this task: a stage commits only while it is the latest attempt."""
        ti = get_current_context()["ti"]
        return f"{ti.run_id}/{ti.task_id}/{ti.map_index}/{ti.try_number}"

    def name_shard(run: dict, shard: int) -> None:
        """What the UI shows for a mapped shard task instead of its map index."""
        get_current_context()["shard_label"] = f"shard {shard + 1} of {run['shard_count']}"

    def failing_fast(errors, stage, *args):
        """Run a stage; ``errors`` are failures a retry cannot mend (a feed of the wrong shape,
        staged rows a server crash emptied): they fail the task at once, with the stage's message."""
        from airflow.sdk.exceptions import AirflowFailException

        try:
            return stage(*args)
        except errors as error:
            raise AirflowFailException(str(error)) from error

    @task
    def resolve_review_date() -> dict:
        from post_loan_review import stages

        context = get_current_context()
        params = context["params"]
        return stages.resolve_review_date(params.get("review_date"), bool(params.get("dry_run")),
                                          params.get("policy"), context.get("data_interval_end"),
                                          context.get("logical_date"), params.get("shards"))

    @task
    def extract_snapshots(run: dict) -> dict:
        from post_loan_review import stages

        return stages.extract_snapshots(run, attempt())

    @task
    def plan_shards(run: dict) -> list[int]:
        """The shard indices the shard tasks map over (Airflow maps over a task's whole result)."""
        return run["shards"]

    @task(map_index_template="{{ shard_label }}")
    def validate_snapshots(run: dict, shard: int) -> dict:
        from post_loan_review import quality, stages

        name_shard(run, shard)
        return failing_fast(quality.QualityGateError, stages.validate_snapshots, run, shard, attempt())

    @task
    def quality_gate(run: dict, extracted: dict, validated: list) -> dict:
        from airflow.sdk.exceptions import AirflowFailException

        from post_loan_review import quality, stages

        try:
            return stages.quality_gate(run, extracted["previous_snapshot_date"], attempt())
        except quality.QualityGateError as error:
            if error.retryable:  # the feed may still arrive: let Airflow retry
                raise
            raise AirflowFailException(str(error)) from error  # bad data: retrying cannot help

    @task(map_index_template="{{ shard_label }}")
    def reassess_accounts(run: dict, gate: dict, shard: int) -> dict:
        from post_loan_review import stages

        name_shard(run, shard)
        return stages.reassess_accounts(run, shard, attempt())

    @task.branch
    def check_portfolio(run: dict, reassessed: list) -> str:
        from post_loan_review import stages, staging

        result = failing_fast(staging.StagingLostError, stages.check_portfolio, run, attempt())
        get_current_context()["ti"].xcom_push(key="breaker", value=result)
        return "approve_changes" if result["breached"] and run["run_mode"] == "live" else "no_approval_needed"

    @task(trigger_rule="none_failed_min_one_success", map_index_template="{{ shard_label }}")
    def apply_limit_changes(run: dict, shard: int) -> dict:
        from post_loan_review import stages, staging

        name_shard(run, shard)
        return failing_fast(staging.StagingLostError, stages.apply_limit_changes, run, shard, attempt())

    @task(outlets=[Asset(NOTIFICATIONS_ASSET_URI)])
    def queue_notifications(run: dict, applied: list) -> dict:
        from post_loan_review import stages

        return stages.queue_notifications(run, attempt())

    @task(trigger_rule="none_failed")  # also after a rejected approval: the report says nothing was applied
    def build_report(run: dict, queued: dict) -> dict:
        from post_loan_review import stages, staging

        return failing_fast(staging.StagingLostError, stages.build_report, run, attempt())

    run = resolve_review_date()
    extracted = extract_snapshots(run)
    shards = plan_shards(run)
    # validation reads the snapshot tables themselves, not extract's staged inputs: the two run side by side
    validated = validate_snapshots.partial(run=run).expand(shard=shards)
    gate = quality_gate(run, extracted, validated)
    reassessed = reassess_accounts.partial(run=run, gate=gate).expand(shard=shards)
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
    applied = apply_limit_changes.partial(run=run).expand(shard=shards)
    guard >> [approval, no_approval] >> applied
    queued = queue_notifications(run, applied)
    build_report(run, queued)


post_loan_review()
