"""The review report: a small hand-made run in a throwaway warehouse, with every number the
summary shows computed by hand below."""

from __future__ import annotations

import json
import math
from datetime import date

import pandas as pd
import pytest

from post_loan_review import db, drift, reports, shard_counts
from post_loan_review.runs import ReviewRun
from post_loan_review.shards import WHOLE_BOOK

REVIEW_DATE = date(2026, 11, 20)
PREVIOUS_DATE = date(2026, 11, 19)
LIVE = ReviewRun(REVIEW_DATE, "live", "v1")
DRY = ReviewRun(REVIEW_DATE, "dry_run", "v1")

# account, action, old limit, new limit, old status, new status, reasons, guardrail
LIVE_DECISIONS = [
    (100000001, "DECREASE", 1_000_000, 700_000, "active", "active", ["SCORE_LOW", "SCORE_DROP"], None),
    (100000002, "DECREASE_TO_FLOOR", 2_000_000, 5_000, "active", "active",
     ["REPAYMENT_SEVERELY_OVERDUE", "REPAYMENT_REPEATED_OVERDUE"], None),
    (100000003, "FREEZE", 3_000_000, 3_000_000, "active", "frozen", ["SECURITY_ACCOUNT_TAKEOVER"], None),
    (100000004, "RESTORE", 500_000, 800_000, "active", "active", ["RESTORE_ON_TIME_REPAYMENT"], None),
    (100000005, "HOLD", 400_000, 400_000, "frozen", "frozen", [], "ACCOUNT_FROZEN"),
    (100000006, "HOLD", 600_000, 600_000, "active", "active", ["SCORE_LOW", "NOT_A_V1_CODE"], "COOL_OFF_DECREASE"),
    (100000007, "HOLD", 700_000, 700_000, "active", "active", [], None),
]
# by hand: active old limits 1,000,000 + 2,000,000 + 3,000,000 + 500,000 + 600,000 + 700,000
EXPOSURE_BEFORE_FEN = 7_800_000
# active new limits 700,000 + 5,000 + 800,000 + 600,000 + 700,000 (account 3 is frozen now)
EXPOSURE_AFTER_FEN = 2_805_000
# the dry run of the same date decides differently: it must never leak into the live report
DRY_DECISIONS = [
    (100000001, "DECREASE_TO_FLOOR", 1_000_000, 5_000, "active", "active", ["SCORE_LOW"], None),
    (100000002, "HOLD", 2_000_000, 2_000_000, "active", "active", [], None),
]


def decisions_frame(run: ReviewRun, rows) -> pd.DataFrame:
    records = []
    for account_id, action, old, new, old_status, new_status, reasons, guardrail in rows:
        reasons = list(reasons) + [None] * (4 - len(reasons))
        records.append({
            "review_date": pd.Timestamp(run.review_date), "run_mode": run.run_mode, "account_id": account_id,
            "policy_version": run.policy_version, "arm": "champion", "applies": True, "action": action,
            "old_limit_fen": old, "new_limit_fen": new, "old_status": old_status, "new_status": new_status,
            "reason_1": reasons[0], "reason_2": reasons[1], "reason_3": reasons[2], "reason_4": reasons[3],
            "guardrail": guardrail, "score": 600, "score_drop": 10, "days_past_due": 0,
            "min_payment_only_months": 0, "spend_ratio": 1.25, "largest_txn_ratio": 0.5,
            "days_since_last_txn": 2, "security_events": 0, "inquiries_30d": 1,
            "on_time_full_payment_months": 3, "verified_monthly_income_fen": None, "preferred_language": "zh-CN",
        })
    return pd.DataFrame.from_records(records)


def stage(conn, run: ReviewRun, rows) -> None:
    """Stage ``rows`` as the run's decisions and count them, as one reassessment shard does."""
    decisions = decisions_frame(run, rows)
    db.bulk_insert(conn, "staged_decisions", decisions)
    shard_counts.record(conn, run, WHOLE_BOOK, decisions)


def scores_frame(snapshot_date: date, scores: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"account_id": range(100000001, 100000001 + len(scores)),
                         "snapshot_date": pd.Timestamp(snapshot_date), "score": scores, "model_version": "m1"})


SCORES = [420, 480, 530, 610, 640, 700, 760, 950]


def load_run(engine, previous_scores: list[int] | None = SCORES) -> None:
    quality = pd.DataFrame([
        {"table_name": "credit_score_snapshots", "expectation": "snapshot_present", "column_name": None,
         "severity": "critical", "success": True, "unexpected_count": 0, "element_count": 8, "details": "observed 8"},
        {"table_name": "credit_score_snapshots", "expectation": "score_in_range", "column_name": "score",
         "severity": "row", "success": False, "unexpected_count": 2, "element_count": 8,
         "details": "<script>alert(1)</script> 2 of 8 rows broke it, e.g. account 100000007"},
        {"table_name": "repayment_snapshots", "expectation": "days_past_due_present", "column_name": "days_past_due",
         "severity": "row", "success": True, "unexpected_count": 0, "element_count": 8, "details": None},
    ]).assign(review_date=pd.Timestamp(REVIEW_DATE), run_mode="live")
    quarantined = pd.DataFrame({
        "review_date": pd.Timestamp(REVIEW_DATE), "run_mode": "live", "table_name": "credit_score_snapshots",
        "account_id": [100000005, 100000005, 100000006], "rule": ["score_in_range", "score_present", "score_in_range"],
        "column_name": "score", "bad_value": ["990", None, "120"]})
    with engine.begin() as conn:
        for run, rows in ((LIVE, LIVE_DECISIONS), (DRY, DRY_DECISIONS),
                          # another date's run, which the report of REVIEW_DATE must not count
                          (ReviewRun(PREVIOUS_DATE, "live", "v1"), LIVE_DECISIONS)):
            stage(conn, run, rows)
        db.bulk_insert(conn, "quality_results", quality)
        db.bulk_insert(conn, "quarantined_rows", quarantined)
        db.bulk_insert(conn, "credit_score_snapshots", scores_frame(REVIEW_DATE, SCORES))
        if previous_scores is not None:
            db.bulk_insert(conn, "credit_score_snapshots", scores_frame(PREVIOUS_DATE, previous_scores))


@pytest.fixture
def engine(tmp_path):
    engine = db.engine(f"sqlite:///{tmp_path}/w.db")
    with engine.begin() as conn:
        db.init_db(conn)
    yield engine
    engine.dispose()


def build(engine, run: ReviewRun, report_dir) -> dict:
    with engine.begin() as conn:
        return reports.build_report(conn, run, report_dir)


# --- summary ---------------------------------------------------------------------------------

def test_summary_counts_and_exposure_match_the_hand_computed_run(engine, tmp_path):
    load_run(engine)
    summary = build(engine, LIVE, tmp_path / "reports")

    assert summary["review_date"] == "2026-11-20"
    assert summary["run_mode"] == "live"
    assert summary["policy_version"] == "v1"
    assert summary["accounts_reviewed"] == 7
    assert summary["actions"] == {"DECREASE": 1, "DECREASE_TO_FLOOR": 1, "FREEZE": 1, "RESTORE": 1,
                                  "MANUAL_REVIEW": 0, "HOLD": 3}
    assert summary["exposure_before_fen"] == EXPOSURE_BEFORE_FEN
    assert summary["exposure_after_fen"] == EXPOSURE_AFTER_FEN
    assert isinstance(summary["exposure_before_fen"], int) and isinstance(summary["exposure_after_fen"], int)
    assert summary["changes"] == 4  # accounts 1..4; the holds change nothing
    # SCORE_LOW: account 1 cut from 1,000,000 to 700,000 fen, account 6 held
    assert summary["top_reasons"][0] == {"code": "SCORE_LOW", "count": 2, "exposure_change_fen": -300_000}
    assert len(summary["top_reasons"]) == 7
    assert {r["code"] for r in summary["top_reasons"][1:]} == {
        "SCORE_DROP", "REPAYMENT_SEVERELY_OVERDUE", "REPAYMENT_REPEATED_OVERDUE",
        "SECURITY_ACCOUNT_TAKEOVER", "RESTORE_ON_TIME_REPAYMENT", "NOT_A_V1_CODE"}
    assert summary["guardrails"] == {"ACCOUNT_FROZEN": 1, "COOL_OFF_DECREASE": 1}
    assert summary["rows_quarantined"] == 3
    assert summary["quality"] == {"expectations": 3, "failed": 1}
    assert summary["score_psi"] == pytest.approx(0.0, abs=1e-12)  # same scores on both dates
    assert summary["score_psi_band"] == "stable"


def test_the_summary_tells_the_floor_cuts_guardrails_appeals_quality_breaker_and_quarantine_rules(engine, tmp_path):
    load_run(engine)
    with engine.begin() as conn:  # two staged inputs with an open appeal, one of another run mode
        inputs = pd.read_sql("select * from review_inputs where 0", conn)
        rows = [{**{c: None for c in inputs.columns}, "review_date": pd.Timestamp(REVIEW_DATE), "run_mode": mode,
                 "account_id": account, "segment": "mass_market", "preferred_language": "zh-CN", "status": "active",
                 "has_open_appeal": appeal, "refused_automated_decisions": False, "approved_limit_fen": 1,
                 "old_limit_fen": 1, "outstanding_balance_fen": 0, "takeover_suspected_events": 0,
                 "device_change_events": 0, "sim_change_events": 0, "password_reset_events": 0}
                for account, mode, appeal in [(100000006, "live", True), (100000007, "live", True),
                                              (100000005, "live", False), (100000001, "dry_run", True)]]
        db.bulk_insert(conn, "review_inputs", pd.DataFrame(rows))
    summary = build(engine, LIVE, tmp_path / "reports")
    # account 2 only: 2,000,000 fen down to the 5,000 fen floor
    assert summary["decreases_to_floor"] == {"accounts": 1, "exposure_before_fen": 2_000_000,
                                             "exposure_after_fen": 5_000}
    assert summary["guardrail_events"] == [
        {"name": "ACCOUNT_FROZEN", "changed": 0, "blocked": 1, "total": 1},
        {"name": "COOL_OFF_DECREASE", "changed": 0, "blocked": 1, "total": 1}]
    assert summary["appeals"] == {"open": 2, "paused": 0}  # no decision was held by APPEAL_OPEN
    assert summary["quality_status"] == "warnings"  # a row rule failed, no critical one
    # v1's breaker: 3 of 7 accounts lowered is far above its guard
    assert summary["breaker"]["tripped"] and summary["breaker"]["applied"]
    assert any("accounts lowered" in reason for reason in summary["breaker"]["reasons"])
    assert summary["quarantined_by_rule"] == [
        {"table": "credit_score_snapshots", "column": "score", "rule": "score_in_range", "rows": 2, "accounts": 2},
        {"table": "credit_score_snapshots", "column": "score", "rule": "score_present", "rows": 1, "accounts": 1}]
    html = open(summary["report_path"], encoding="utf-8").read()
    assert 'id="floor"' in html and "2 of 8 rows broke it" in html


def test_the_trend_reads_every_reported_run_of_the_mode_up_to_the_date(engine, tmp_path):
    load_run(engine)
    earlier = build(engine, ReviewRun(PREVIOUS_DATE, "live", "v1"), tmp_path / "reports")
    build(engine, DRY, tmp_path / "reports")  # another run mode: not in the live trend
    summary = build(engine, LIVE, tmp_path / "reports")
    assert [point["review_date"] for point in summary["trend"]] == ["2026-11-19", "2026-11-20"]
    assert summary["trend"][0]["changes"] == earlier["changes"]
    assert summary["trend"][1]["exposure_after_fen"] == EXPOSURE_AFTER_FEN
    rebuilt = build(engine, LIVE, tmp_path / "reports")  # a re-run replaces its line
    assert rebuilt["trend"] == summary["trend"]
    assert build(engine, ReviewRun(PREVIOUS_DATE, "live", "v1"), tmp_path / "reports")["trend"] == summary["trend"][:1]


def test_the_fairness_slice_reads_protected_attributes_by_customer(engine, tmp_path):
    load_run(engine)
    with engine.begin() as conn:
        accounts = pd.DataFrame({"account_id": [row[0] for row in LIVE_DECISIONS],
                                 "customer_id": [row[0] + 700_000_000 for row in LIVE_DECISIONS]})
        db.bulk_insert(conn, "accounts", accounts.assign(
            open_date=pd.Timestamp("2020-01-01"), segment="mass_market", preferred_language="zh-CN",
            approved_limit_fen=1, current_limit_fen=1, outstanding_balance_fen=0, status="active",
            has_open_appeal=False, refused_automated_decisions=False))
        # accounts 1-3 (decrease, floor, freeze) are women born 2000; the rest men born 1970
        db.bulk_insert(conn, "customer_profiles", pd.DataFrame({
            "customer_id": accounts["customer_id"], "phone_number": "+8613900000000",
            "birth_year": [2000, 2000, 2000, 1970, 1970, 1970, 1970],
            "sex": ["female"] * 3 + ["male"] * 4, "education": None, "marital_status": None}))
    fairness = build(engine, LIVE, tmp_path / "reports")["fairness"]
    groups = {(g["attribute"], g["group"]): g for g in fairness["groups"]}
    assert groups[("sex", "female")]["accounts"] == 3
    assert groups[("sex", "female")]["decrease_rate_pct"] == pytest.approx(200 / 3)  # decrease and to floor
    assert groups[("sex", "female")]["freeze_rate_pct"] == pytest.approx(100 / 3)
    assert groups[("age_band", "25-34")]["accounts"] == 3  # 2026 - 2000 = 26
    assert groups[("age_band", "55+")]["decrease_rate_pct"] == 0
    assert ("education", "unknown") not in groups  # not recorded: no groups to show
    assert fairness["book_cut_rate_pct"] == pytest.approx(300 / 7)
    assert fairness["groups_flagged"] == 0  # far too few accounts to judge


def test_every_action_is_in_the_summary_even_when_absent(engine, tmp_path):
    load_run(engine)
    summary = build(engine, DRY, tmp_path / "reports")
    assert summary["accounts_reviewed"] == 2
    assert summary["actions"] == {"DECREASE": 0, "DECREASE_TO_FLOOR": 1, "FREEZE": 0, "RESTORE": 0,
                                  "MANUAL_REVIEW": 0, "HOLD": 1}
    assert summary["exposure_before_fen"] == 3_000_000
    assert summary["exposure_after_fen"] == 2_005_000
    assert summary["rows_quarantined"] == 0 and summary["quality"] == {"expectations": 0, "failed": 0}


def test_top_reasons_keep_the_ten_most_frequent(engine, tmp_path):
    codes = [f"CODE_{i:02d}" for i in range(12)]
    # CODE_00 on 12 accounts, CODE_01 on 11, ... CODE_11 on 1
    rows = [(100000001 + a, "DECREASE", 1000, 900, "active", "active",
             [c for i, c in enumerate(codes) if a < 12 - i][:4], None) for a in range(12)]
    with engine.begin() as conn:
        stage(conn, LIVE, rows)
    summary = build(engine, LIVE, tmp_path / "reports")
    assert [r["code"] for r in summary["top_reasons"]] == codes[:4]
    assert [r["count"] for r in summary["top_reasons"]] == [12, 11, 10, 9]

    rows = [(100000001 + a, "DECREASE", 1000, 900, "active", "active", [codes[a % 12]], None)
            for a in range(12 * 3 + 1)]  # CODE_00 on 4 accounts, every other code on 3
    with engine.begin() as conn:
        conn.exec_driver_sql("delete from staged_decisions")
        stage(conn, LIVE, rows)
    summary = build(engine, LIVE, tmp_path / "reports")
    assert len(summary["top_reasons"]) == 10
    assert summary["top_reasons"][0] == {"code": "CODE_00", "count": 4, "exposure_change_fen": -400}
    assert [r["code"] for r in summary["top_reasons"][1:]] == codes[1:10]  # ties by code


# --- files -----------------------------------------------------------------------------------

def test_the_three_files_are_written_under_date_and_mode(engine, tmp_path):
    load_run(engine)
    summary = build(engine, LIVE, tmp_path / "reports")
    folder = tmp_path / "reports" / "2026-11-20" / "live"
    assert summary["report_path"] == str(folder / "report.html")
    assert summary["decisions_path"] == str(folder / "decisions.csv")
    assert summary["summary_path"] == str(folder / "summary.json")
    assert sorted(p.name for p in folder.iterdir()) == ["decisions.csv", "report.html", "summary.json"]
    on_disk = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert on_disk == {k: v for k, v in summary.items() if not k.endswith("_path")}


def test_decisions_csv_has_one_row_per_decision_with_every_column_masked_ids_and_integer_fen(engine, tmp_path):
    load_run(engine)
    summary = build(engine, LIVE, tmp_path / "reports")
    with engine.connect() as conn:
        table_columns = [row[1] for row in conn.exec_driver_sql("pragma table_info(staged_decisions)")]
    csv = pd.read_csv(summary["decisions_path"], dtype={"account_masked": str})
    assert list(csv.columns) == [("account_masked" if name == "account_id" else name) for name in table_columns]
    assert len(csv) == len(LIVE_DECISIONS)
    # in account order, each id masked as the report masks it, never in full
    assert csv["account_masked"].tolist() == [reports.mask_account_id(row[0]) for row in LIVE_DECISIONS]
    text = open(summary["decisions_path"], encoding="utf-8").read()
    assert not any(str(row[0]) in text for row in LIVE_DECISIONS)
    assert set(csv["run_mode"]) == {"live"} and set(csv["review_date"]) == {"2026-11-20"}
    assert csv["old_limit_fen"].tolist() == [row[2] for row in LIVE_DECISIONS]
    assert csv["new_limit_fen"].tolist() == [row[3] for row in LIVE_DECISIONS]
    raw = open(summary["decisions_path"], encoding="utf-8").read().splitlines()
    assert raw[2].split(",")[7:9] == ["2000000", "5000"]  # fen as integers, no '.0'


def test_a_rerun_overwrites_the_same_files_with_the_same_content(engine, tmp_path):
    load_run(engine)
    first = build(engine, LIVE, tmp_path / "reports")
    contents = {key: open(first[key], "rb").read() for key in ("report_path", "decisions_path", "summary_path")}
    second = build(engine, LIVE, tmp_path / "reports")
    folder = tmp_path / "reports" / "2026-11-20" / "live"
    assert sorted(p.name for p in folder.iterdir()) == ["decisions.csv", "report.html", "summary.json"]
    assert {key: open(second[key], "rb").read() for key in contents} == contents

    # the run changed (one decision fewer): the files follow, nothing stale is left behind
    with engine.begin() as conn:  # decided again, as a re-run reassessment shard restages and recounts
        conn.exec_driver_sql("delete from staged_decisions where run_mode = 'live' and review_date = '2026-11-20'")
        stage(conn, LIVE, [row for row in LIVE_DECISIONS if row[0] != 100000007])
    third = build(engine, LIVE, tmp_path / "reports")
    assert third["accounts_reviewed"] == 6
    assert len(pd.read_csv(third["decisions_path"])) == 6
    assert json.loads(open(third["summary_path"], encoding="utf-8").read())["accounts_reviewed"] == 6
    assert sorted(p.name for p in folder.iterdir()) == ["decisions.csv", "report.html", "summary.json"]


# --- HTML ------------------------------------------------------------------------------------

def test_a_dry_run_report_says_so_and_a_live_one_does_not(engine, tmp_path):
    load_run(engine)
    live = open(build(engine, LIVE, tmp_path / "reports")["report_path"], encoding="utf-8").read()
    dry = open(build(engine, DRY, tmp_path / "reports")["report_path"], encoding="utf-8").read()
    assert "DRY RUN: nothing was applied" in dry
    assert "DRY RUN" not in live


def test_the_html_masks_every_account_id_and_is_self_contained(engine, tmp_path):
    load_run(engine)
    html = open(build(engine, LIVE, tmp_path / "reports")["report_path"], encoding="utf-8").read()
    for account_id, *_ in LIVE_DECISIONS:
        assert str(account_id) not in html
    assert "1000****03" in html  # the frozen account is among the largest changes, masked
    assert "1000****07" in html  # the id inside a quality detail is masked too
    assert "<script" not in html and "&lt;script&gt;" in html  # autoescaped
    assert "http://" not in html and "https://" not in html
    assert "<svg" in html and "<style>" in html


def test_the_html_shows_the_numbers_and_the_reasons_plain_words(engine, tmp_path):
    load_run(engine)
    html = open(build(engine, LIVE, tmp_path / "reports")["report_path"], encoding="utf-8").read()
    assert "¥78,000.00" in html and "¥28,050.00" in html
    assert "您的信用评分较低" in html and "your credit score is low" in html  # SCORE_LOW, from policies/v1.yaml
    assert "NOT_A_V1_CODE" in html  # an unknown code is listed, not a crash
    assert "score_in_range" in html and "COOL_OFF_DECREASE" in html
    assert "stable" in html


# --- score drift -----------------------------------------------------------------------------

def test_the_report_psi_grows_when_the_scores_move(engine, tmp_path):
    load_run(engine, previous_scores=[s + 150 if s < 800 else s for s in SCORES])
    summary = build(engine, LIVE, tmp_path / "reports")
    assert summary["score_psi"] > 0.25
    assert summary["score_psi_band"] == "shifted"
    assert summary["previous_snapshot_date"] == "2026-11-19"


def test_the_report_psi_is_null_without_an_earlier_snapshot(engine, tmp_path):
    load_run(engine, previous_scores=None)
    summary = build(engine, LIVE, tmp_path / "reports")
    assert summary["score_psi"] is None and summary["score_psi_band"] is None
    on_disk = json.loads(open(summary["summary_path"], encoding="utf-8").read())
    assert on_disk["score_psi"] is None and on_disk["score_psi_band"] is None


def test_psi_of_identical_distributions_is_zero():
    scores = [360, 420, 420, 555, 610, 700, 700, 700, 949]
    assert drift.population_stability_index(scores, list(scores)) == pytest.approx(0.0, abs=1e-12)


def test_psi_matches_the_hand_computed_value():
    expected = [375] * 50 + [425] * 50  # 50 % in 350-399, 50 % in 400-449
    actual = [375] * 75 + [425] * 25  # 75 % and 25 %
    by_hand = (0.75 - 0.5) * math.log(0.75 / 0.5) + (0.25 - 0.5) * math.log(0.25 / 0.5)
    assert drift.population_stability_index(expected, actual) == pytest.approx(by_hand, rel=1e-12)
    assert by_hand == pytest.approx(0.274653, abs=1e-6)


def test_psi_grows_with_the_shift_and_uses_epsilon_for_empty_bins():
    base = [500 + (i % 200) for i in range(1000)]
    small = drift.population_stability_index(base, [s + 10 for s in base])
    large = drift.population_stability_index(base, [s + 100 for s in base])
    assert 0 < small < large
    # all scores moved to a bin the baseline never had: finite, and huge
    moved = drift.population_stability_index([375] * 10, [925] * 10)
    assert math.isfinite(moved) and moved > 10
    # the two bins that hold the scores each add (1 - 1e-6) * ln(1 / 1e-6); every other bin adds 0
    by_hand = 2 * (1 - 1e-6) * math.log(1 / 1e-6)
    assert moved == pytest.approx(by_hand, rel=1e-9)


def test_psi_ignores_scores_outside_350_to_950_and_counts_950():
    base = [400, 500, 600, 950]
    assert drift.population_stability_index(base, base + [120, 990, None]) == pytest.approx(0.0, abs=1e-12)
    assert drift.population_stability_index(base, [400, 500, 600, 949]) == pytest.approx(0.0, abs=1e-12)
    assert drift.population_stability_index(base, [400, 500, 600, 899]) > 0.1


def test_psi_is_none_without_scores_on_one_side():
    assert drift.population_stability_index([], [600, 700]) is None
    assert drift.population_stability_index([600], [100, 1000]) is None


@pytest.mark.parametrize("psi, band", [(None, None), (0.0, "stable"), (0.099, "stable"), (0.1, "watch"),
                                       (0.25, "watch"), (0.2501, "shifted")])
def test_psi_bands(psi, band):
    assert drift.psi_band(psi) == band


# --- text ------------------------------------------------------------------------------------

def test_format_summary_prints_counts_and_yuan_with_separators(engine, tmp_path):
    load_run(engine)
    text = reports.format_summary(build(engine, LIVE, tmp_path / "reports"))
    assert "7" in text.splitlines()[1]
    assert any(line.split() == ["DECREASE_TO_FLOOR", "1"] for line in text.splitlines())
    assert any(line.split() == ["HOLD", "3"] for line in text.splitlines())
    assert "¥78,000.00" in text and "¥28,050.00" in text
    assert "-64.04 %" in text  # (28,050 - 78,000) / 78,000
    assert "Report:" not in text


def test_format_summary_reads_a_summary_json_and_survives_zero_exposure():
    summary = {"review_date": "2026-11-20", "run_mode": "dry_run", "policy_version": "v1", "accounts_reviewed": 0,
               "changes": 0, "actions": {a: 0 for a in ("DECREASE", "DECREASE_TO_FLOOR", "FREEZE", "RESTORE", "HOLD")},
               "exposure_before_fen": 0, "exposure_after_fen": 0}
    text = reports.format_summary(summary)
    assert "DRY RUN" in text and "n/a" in text and "¥0.00" in text


@pytest.mark.parametrize("fen, text", [(123_456_789, "¥1,234,567.89"), (5, "¥0.05"), (0, "¥0.00"),
                                       (-150, "-¥1.50"), (10**17 + 1, "¥1,000,000,000,000,000.01")])
def test_format_yuan_is_exact(fen, text):
    assert reports.format_yuan(fen) == text


def test_mask_account_id():
    assert reports.mask_account_id(100000001) == "1000****01"
    assert reports.mask_account_id("12345") == "****45"


# --- PostgreSQL ------------------------------------------------------------------------------

@pytest.mark.postgres
def test_postgresql_and_sqlite_give_the_same_summary_and_csv(engine, postgres_warehouse, tmp_path):
    results = {}
    for name, warehouse in (("sqlite", engine), ("postgres", postgres_warehouse)):
        load_run(warehouse)
        summary = build(warehouse, LIVE, tmp_path / name)
        csv = open(summary["decisions_path"], encoding="utf-8").read()
        results[name] = ({k: v for k, v in summary.items() if not k.endswith("_path")}, csv)
    assert results["postgres"] == results["sqlite"]


def test_the_page_holds_both_languages_and_switches_between_them_without_script(engine, tmp_path):
    load_run(engine)
    html = open(build(engine, LIVE, tmp_path / "reports")["report_path"], encoding="utf-8").read()
    assert 'id="lang-zh" class="lang-radio" checked' in html and 'id="lang-en" class="lang-radio"' in html
    # each language's text hides when the other is chosen: pure CSS
    assert '#lang-zh:checked ~ .container [lang="en"] { display: none; }' in html
    assert '#lang-en:checked ~ .container [lang="zh-CN"] { display: none; }' in html
    for zh, en in [("贷后额度复核报告", "Post-loan limit review"), ("公平性切片", "Fairness slice"),
                   ("近期趋势", "Trend over the latest reviews"), ("账户已冻结，等待人工处理",
                                                                  "the account is frozen and waits for a person")]:
        assert f'<span lang="zh-CN">{zh}</span><span lang="en">{en}</span>' in html
    # the largest changes say the main reason in both languages, as the customer is told
    from post_loan_review.policy import load_policy

    words = load_policy("v1").rule("REPAYMENT_SEVERELY_OVERDUE").reason
    assert f'<span lang="zh-CN">{words["zh-CN"]}</span><span lang="en">{words["en"]}</span>' in html
    assert "<script" not in html and "http://" not in html and "https://" not in html  # self-contained


def test_every_guardrail_the_report_names_has_words_in_both_languages():
    from post_loan_review.guardrails import GUARDRAILS, GUARDRAILS_ZH

    assert set(GUARDRAILS_ZH) == set(GUARDRAILS)
    assert all(GUARDRAILS_ZH.values())
