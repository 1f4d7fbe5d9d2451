"""The breaker's and the report's figures come from what each reassessment shard counted
(shard_counts.py): added up over the shards of the run's split they are, to the fen, what the
staged decisions themselves say, on SQLite and PostgreSQL, with a live challenger deciding part
of the book; a shard decided again or a later split is counted once; a report never adds up
the counts of a split other than the one check_portfolio judged."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from checks import scalar
from conftest import FIRST_DATE, load_portfolio, reassessed_run, validated_run
from sqlalchemy import text

from post_loan_review import db, stages
from post_loan_review.policy import Challenger
from post_loan_review.staging import StagingLostError

# the figures straight from staged_decisions, with no shard counts: what the report's SQL read
# before the shards counted them (the reason codes are unpivoted in pandas: _staged_reason_counts)
FROM_STAGED_DECISIONS = {
    "report/decision_counts": """
        select action, guardrail, count(*) as accounts,
               sum(case when new_limit_fen <> old_limit_fen or new_status <> old_status then 1 else 0 end) as changes,
               sum(case when old_status = 'active' then old_limit_fen else 0 end) as exposure_before_fen,
               sum(case when new_status = 'active' then new_limit_fen else 0 end) as exposure_after_fen
        from staged_decisions where run_mode = 'live' and applies
        group by action, guardrail""",
    "report/arm_counts": """
        select arm, policy_version, action, case when applies then 1 else 0 end as applies, count(*) as accounts,
               sum(case when new_limit_fen <> old_limit_fen or new_status <> old_status then 1 else 0 end) as changes,
               sum(new_limit_fen - old_limit_fen) as limit_change_fen
        from staged_decisions where run_mode = 'live'
        group by arm, policy_version, action, applies""",
    "report/largest_changes": """
        select account_id, action, old_limit_fen, new_limit_fen, old_status, new_status, reason_1, reason_2,
               guardrail,
               case when old_status = 'active' then old_limit_fen else 0 end
               - case when new_status = 'active' then new_limit_fen else 0 end as exposure_removed_fen
        from staged_decisions
        where run_mode = 'live' and applies and (new_limit_fen <> old_limit_fen or new_status <> old_status)
        order by exposure_removed_fen desc, account_id
        limit 10""",
}
SORTED_BY = {"report/decision_counts": ["action", "guardrail"], "report/arm_counts": ["arm", "action", "applies"],
             "report/reason_counts": ["code"], "report/largest_changes": None}


@pytest.fixture
def live_challenger(monkeypatch):
    """v1 with v2 deciding a third of the book live: two arms, both applying to some accounts."""
    real = stages.load_policy

    def with_challenger(version):
        policy = real(version)
        return dataclasses.replace(policy, challenger=Challenger("v2", 33, "shard-counts", "live")) \
            if version == "v1" else policy

    monkeypatch.setattr(stages, "load_policy", with_challenger)


def _staged_reason_counts(conn) -> pd.DataFrame:
    decisions = pd.read_sql(text("""
        select reason_1, reason_2, reason_3, reason_4,
               case when new_status = 'active' then new_limit_fen else 0 end
               - case when old_status = 'active' then old_limit_fen else 0 end as moved
        from staged_decisions where run_mode = 'live' and applies"""), conn)
    codes = decisions.melt(id_vars="moved", value_name="code").dropna(subset=["code"])
    counted = codes.groupby("code")["moved"].agg(accounts="size", exposure_change_fen="sum").reset_index()
    return counted


def _expected(engine, name: str) -> pd.DataFrame:
    with engine.connect() as conn:
        if name == "report/reason_counts":
            return _staged_reason_counts(conn)
        return pd.read_sql(text(FROM_STAGED_DECISIONS[name]), conn)


def _counted(engine, name: str, shard_count: int) -> pd.DataFrame:
    with engine.connect() as conn:
        return db.read_frame(conn, name, {"review_date": FIRST_DATE, "run_mode": "live", "shard_count": shard_count})


def _same(counted: pd.DataFrame, expected: pd.DataFrame, name: str) -> None:
    """The same rows and values; the types as each database gives them aside."""
    assert len(counted) > 0, name
    columns = list(expected.columns)
    by = SORTED_BY[name]
    counted, expected = counted[columns], expected[columns]
    if by:
        counted, expected = counted.sort_values(by, ignore_index=True), expected.sort_values(by, ignore_index=True)
    assert counted.astype(object).where(counted.notna(), None).values.tolist() == \
        expected.astype(object).where(expected.notna(), None).values.tolist(), name


def _assert_counts_match_staged_decisions(engine, shard_count: int) -> None:
    for name in SORTED_BY:
        _same(_counted(engine, name, shard_count), _expected(engine, name), name)


def test_the_shards_counts_add_up_to_what_the_staged_decisions_say(any_warehouse, live_challenger):
    load_portfolio(any_warehouse, accounts=3000)
    run = reassessed_run(FIRST_DATE, 3)
    assert scalar(any_warehouse, "select count(distinct arm) from staged_decisions where applies") == 2
    assert scalar(any_warehouse, "select count(distinct shard) from shard_decision_counts where shard_count = 3") == 3
    _assert_counts_match_staged_decisions(any_warehouse, 3)
    guard = stages.check_portfolio(run)
    assert guard["accounts_reviewed"] == scalar(any_warehouse, "select count(*) from review_inputs")


def test_a_shard_decided_again_or_a_later_split_is_counted_once(any_warehouse):
    load_portfolio(any_warehouse, accounts=3000)
    three = reassessed_run(FIRST_DATE, 3)
    stages.reassess_accounts(three, 1)  # a committed shard cleared in the UI and run again
    _assert_counts_match_staged_decisions(any_warehouse, 3)

    two = {**three, "shard_count": 2, "shards": [0, 1]}  # a later run of the date split in two
    for shard in two["shards"]:
        stages.reassess_accounts(two, shard)
    _assert_counts_match_staged_decisions(any_warehouse, 2)
    assert stages.check_portfolio(two)["accounts_reviewed"] == scalar(any_warehouse, "select count(*) from review_inputs")


def test_the_report_refuses_the_counts_of_a_split_the_breaker_did_not_judge(warehouse, tmp_path, monkeypatch):
    monkeypatch.setenv("PLR_REPORT_DIR", str(tmp_path / "reports"))
    load_portfolio(warehouse, accounts=1000)
    run = validated_run(FIRST_DATE, 2)
    for shard in run["shards"]:
        stages.reassess_accounts(run, shard)
    stages.check_portfolio(run)
    stages.apply_limit_changes(run, 0)
    stages.apply_limit_changes(run, 1)
    reviewed = scalar(warehouse, "select accounts_reviewed from review_runs where run_mode = 'live'")
    # a report task handed another split than the one decided (a version that counted nothing, or
    # a re-trigger with another shard count whose reassessment never ran): it fails without
    # retries (StagingLostError) and writes no file
    with pytest.raises(StagingLostError, match=rf"check_portfolio judged {reviewed:,} decisions but the counts of the 3 "
                                           r"reassessment shard\(s\) hold 0; nothing was written"):
        stages.build_report({**run, "shard_count": 3, "shards": [0, 1, 2]})
    assert not (tmp_path / "reports").exists()
    assert stages.build_report(run)["accounts_reviewed"] == reviewed
