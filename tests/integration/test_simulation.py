"""Policy simulation (``plr simulate``, the ``policy_simulation`` DAG's functions) on a throwaway
SQLite warehouse: a policy against itself, a stricter candidate, the recorded live decisions as
the baseline, and the promise that nothing live is written."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
from checks import scalar, table
from conftest import FIRST_DATE, SECOND_DATE, load_portfolio
from sqlalchemy import text

from post_loan_review import cli, simulation, stages
from post_loan_review.config import POLICY_DIR
from post_loan_review.policy import ACTIONS, load_policy, load_policy_file
from post_loan_review.quality import QualityGateError

# what a simulation must never touch, with each table's full key so row order cannot matter
LIVE_TABLES = {
    "accounts": ["account_id"],
    "limit_decisions": ["account_id", "review_date", "arm"],
    "limit_ledger": ["account_id", "review_date"],
    "notifications": ["notification_key"],
    "staged_decisions": ["review_date", "run_mode", "account_id", "arm"],
    "staged_traces": ["review_date", "run_mode", "account_id", "arm", "step"],
    "decision_traces": None,
    "review_runs": None,
}


def _live_state(engine) -> dict[str, pd.DataFrame]:
    state = {}
    for name, key in LIVE_TABLES.items():
        frame = table(engine, name)
        key = key or list(frame.columns)
        state[name] = frame.sort_values(key, kind="stable").reset_index(drop=True)
    # the live run's own staging rows too: a simulation only writes rows of run mode simulation
    for name in ("review_inputs", "quality_results", "quarantined_rows"):
        with engine.connect() as conn:
            frame = pd.read_sql(text(f"select * from {name} where run_mode <> 'simulation'"), conn)
        state[name] = frame.sort_values(list(frame.columns), kind="stable").reset_index(drop=True)
    return state


def _assert_unchanged(engine, before: dict[str, pd.DataFrame]) -> None:
    after = _live_state(engine)
    for name, frame in before.items():
        pd.testing.assert_frame_equal(after[name], frame, obj=name)


@pytest.fixture
def strict_policy(tmp_path) -> Path:
    """v1 with SCORE_LOW firing below 560 instead of 500, as its own version."""
    source = (POLICY_DIR / "v1.yaml").read_text(encoding="utf-8")
    assert source.count("when: score < 500\n") == 1 and source.count("\nversion: v1\n") == 1
    path = tmp_path / "v1_strict.yaml"
    path.write_text(source.replace("when: score < 500\n", "when: score < 560\n")
                    .replace("\nversion: v1\n", "\nversion: v1_strict\n"), encoding="utf-8")
    return path


def _matrix(summary) -> pd.DataFrame:
    return pd.DataFrame(summary["transitions"]).T.loc[list(ACTIONS), list(ACTIONS)]


def _changes(summary) -> list[dict[str, str]]:
    with open(summary["changes_path"], encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_policy_against_itself_changes_nothing(warehouse):
    load_portfolio(warehouse, accounts=3000)
    stages.review(FIRST_DATE)  # live history before the date, so the live tables are not empty
    before = _live_state(warehouse)
    summary = simulation.run_simulation(load_policy("v1"), SECOND_DATE)

    assert summary["baseline"] == {"source": "computed", "policy_versions": ["v1"]}
    reviewable = scalar(warehouse, "select count(*) from review_inputs where run_mode = 'simulation'")
    assert summary["accounts"] == reviewable > 0
    assert summary["changed_accounts"] == 0
    matrix = _matrix(summary)
    off_diagonal = matrix.to_numpy().sum() - matrix.to_numpy().trace()
    assert off_diagonal == 0 and matrix.to_numpy().trace() == summary["accounts"]
    assert summary["exposure"]["current_fen"] == summary["exposure"]["candidate_fen"]
    assert summary["exposure"]["delta_fen"] == 0
    assert all(row["difference"] == 0 for row in summary["reasons"].values())
    assert summary["sample"] == []
    assert _changes(summary) == []
    _assert_unchanged(warehouse, before)


def test_a_stricter_candidate_lowers_more_limits_and_writes_nothing_live(warehouse, strict_policy):
    load_portfolio(warehouse, accounts=3000)
    stages.review(FIRST_DATE)
    before = _live_state(warehouse)
    summary = simulation.run_simulation(load_policy_file(strict_policy), SECOND_DATE)
    _assert_unchanged(warehouse, before)

    assert summary["candidate_policy"] == "v1_strict"
    matrix = _matrix(summary)
    assert matrix.loc["HOLD", "DECREASE"] > 0
    assert matrix.to_numpy().sum() == summary["accounts"] > 0
    # a stricter score rule never restores or releases anything the current policy lowers
    assert matrix.loc[list(ACTIONS[:3]), "HOLD"].sum() == 0
    assert summary["actions"]["candidate"]["DECREASE"] > summary["actions"]["current"]["DECREASE"]
    exposure = summary["exposure"]
    assert exposure["candidate_fen"] < exposure["current_fen"]
    assert exposure["delta_fen"] == exposure["candidate_fen"] - exposure["current_fen"]
    for side in ("current", "candidate"):
        assert sum(v[f"{side}_fen"] for v in exposure["by_action"].values()) == exposure[f"{side}_fen"]
        assert all(isinstance(v[f"{side}_fen"], int) for v in exposure["by_action"].values())
    assert summary["reasons"]["SCORE_LOW"]["difference"] > 0

    # every changed account is in changes.csv, and only those
    changes = _changes(summary)
    assert len(changes) == summary["changed_accounts"] > 0
    assert all(row["current_action"] != row["candidate_action"]
               or row["current_new_limit_fen"] != row["candidate_new_limit_fen"] for row in changes)
    assert sum(row["current_action"] == "HOLD" and row["candidate_action"] == "DECREASE"
               for row in changes) == matrix.loc["HOLD", "DECREASE"]

    # the sample: at most 20, largest absolute difference first, ids masked, reasons in words
    sample = summary["sample"]
    assert 0 < len(sample) <= 20
    differences = [abs(row["limit_difference_fen"]) for row in sample]
    assert differences == sorted(differences, reverse=True)
    assert differences[0] == max(abs(int(row["limit_difference_fen"])) for row in changes)
    assert all("****" in row["account"] for row in sample)
    score_low = [r for row in sample for r in row["candidate_reasons"] if r["code"] == "SCORE_LOW"]
    assert score_low and score_low[0]["en"] == "your credit score is low"

    html = Path(summary["report_path"]).read_text(encoding="utf-8")
    assert "SIMULATION — nothing was applied" in html
    assert "your credit score is low" in html
    assert not any(row["account_id"] in html for row in changes)  # full ids stay in the CSV
    assert Path(summary["report_path"]).parent == \
        Path(summary["summary_path"]).parent.parent / "v1_strict"
    assert json.loads(Path(summary["summary_path"]).read_text(encoding="utf-8"))["changed_accounts"] == \
        summary["changed_accounts"]


def test_the_recorded_live_decisions_are_the_baseline(any_warehouse, strict_policy):
    warehouse = any_warehouse
    load_portfolio(warehouse, accounts=3000)
    stages.review(SECOND_DATE)
    same = simulation.run_simulation(load_policy("v1"), SECOND_DATE)
    assert same["baseline"] == {"source": "recorded", "policy_versions": ["v1"]}
    assert same["changed_accounts"] == 0  # a re-decided date gives the recorded decisions

    # alter one recorded decision: the simulation must now see exactly that one difference
    account_id = scalar(warehouse, """select min(account_id) from limit_decisions
        where review_date = :d and action = 'HOLD' and new_status = 'active'""", d=SECOND_DATE)
    with warehouse.begin() as conn:
        conn.execute(text("""update limit_decisions set action = 'FREEZE', new_status = 'frozen'
            where account_id = :a and review_date = :d"""), {"a": account_id, "d": SECOND_DATE})
    before = _live_state(warehouse)
    altered = simulation.run_simulation(load_policy("v1"), SECOND_DATE)
    _assert_unchanged(warehouse, before)
    assert altered["changed_accounts"] == 1
    assert altered["transitions"]["FREEZE"]["HOLD"] == 1
    assert [int(row["account_id"]) for row in _changes(altered)] == [account_id]
    assert altered["exposure"]["current_fen"] < same["exposure"]["current_fen"]

    strict = simulation.run_simulation(load_policy_file(strict_policy), SECOND_DATE)
    assert strict["baseline"]["source"] == "recorded"
    assert strict["transitions"]["HOLD"]["DECREASE"] > 0


def test_a_superseded_backfill_is_compared_with_its_champion_decisions(warehouse):
    load_portfolio(warehouse, accounts=3000)
    stages.review(SECOND_DATE)
    stages.review(FIRST_DATE)  # a backfill: where the newer review set the limit, no arm is applied
    assert scalar(warehouse, "select count(*) from limit_decisions where review_date = :d and not is_applied",
                  d=FIRST_DATE) > 0
    summary = simulation.run_simulation(load_policy("v1"), FIRST_DATE)
    assert summary["baseline"]["source"] == "recorded"
    assert summary["accounts"] == scalar(warehouse, "select count(*) from limit_decisions where review_date = :d",
                                         d=FIRST_DATE)
    assert summary["accounts_only_current"] == summary["accounts_only_candidate"] == 0
    assert summary["changed_accounts"] == 0


def test_a_broken_feed_stops_the_simulation_and_leaves_no_staging(warehouse):
    load_portfolio(warehouse, accounts=3000, bad_row_rate=0.05)
    with pytest.raises(QualityGateError, match="credit_score_snapshots.score"):
        simulation.run_simulation(load_policy("v1"), SECOND_DATE)
    assert scalar(warehouse, "select count(*) from review_inputs") == 0
    assert scalar(warehouse, "select count(*) from staged_decisions") == 0


def test_plr_simulate_prints_a_summary_and_the_report_path(warehouse, strict_policy, capsys):
    load_portfolio(warehouse, accounts=2000)
    assert cli.main(["simulate", "--policy", str(strict_policy), "--date", SECOND_DATE.isoformat()]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert "nothing was applied" in lines[0]
    assert any(line.strip().startswith("HOLD -> DECREASE") for line in lines)
    assert lines[-1].startswith("Report: ") and lines[-1].endswith("simulation.html")
    assert Path(lines[-1].removeprefix("Report: ")).is_file()
    # a bare version is read from include/policies
    assert cli.main(["simulate", "--policy", "v1", "--date", SECOND_DATE.isoformat()]) == 0
    assert "(0 decisions change" in capsys.readouterr().out


def test_resolve_dates_lists_at_most_a_month():
    assert simulation.resolve_dates("2026-11-27") == ["2026-11-27"]
    assert simulation.resolve_dates("2026-11-27", "") == ["2026-11-27"]
    assert simulation.resolve_dates("2026-11-29", "2026-12-02") == \
        ["2026-11-29", "2026-11-30", "2026-12-01", "2026-12-02"]
    assert len(simulation.resolve_dates("2026-11-01", "2026-12-01")) == 31
    with pytest.raises(ValueError, match="at most 31"):
        simulation.resolve_dates("2026-11-01", "2026-12-02")
    with pytest.raises(ValueError, match="before from_date"):
        simulation.resolve_dates("2026-11-27", "2026-11-26")
    with pytest.raises(ValueError, match="from_date must be a date"):
        simulation.resolve_dates("27/11/2026")


def test_summarise_puts_the_dates_side_by_side():
    results = [
        {"review_date": "2026-11-27", "candidate_policy": "v2", "changed_accounts": 5,
         "exposure_delta_fen": -300, "report_path": "b"},
        {"review_date": "2026-11-26", "candidate_policy": "v2", "changed_accounts": 2,
         "exposure_delta_fen": 100, "report_path": "a"},
    ]
    summary = simulation.summarise(results)
    assert summary["dates"] == ["2026-11-26", "2026-11-27"]
    assert summary["changed_accounts"] == {"2026-11-26": 2, "2026-11-27": 5}
    assert summary["exposure_delta_fen"] == {"2026-11-26": 100, "2026-11-27": -300}
    assert summary["total_changed_accounts"] == 7
