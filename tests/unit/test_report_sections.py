"""The report's analytical sections on small frames whose answers are worked out by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from post_loan_review import report_charts, report_sections


def fairness_frame(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["age_band", "sex", "education", "marital_status", "accounts", "decreases",
                                       "freezes"])


def test_a_group_cut_far_more_often_than_the_rest_is_flagged_and_the_rates_are_exact():
    frame = fairness_frame([
        ("18-24", "female", "university", "single", 1_000, 150, 50),   # cut 20 %
        ("35-44", "male", "university", "married", 9_000, 450, 0),     # cut 5 %
    ])
    fairness = report_sections.fairness_slice(frame)
    assert fairness["book_accounts"] == 10_000
    assert fairness["book_cut_rate"] == pytest.approx(6.5)  # 650 / 10,000
    age = next(a for a in fairness["attributes"] if a["key"] == "age_band")
    young = next(g for g in age["groups"] if g["group"] == "18-24")
    assert young["decrease_rate"] == pytest.approx(15.0) and young["freeze_rate"] == pytest.approx(5.0)
    assert young["ratio"] == pytest.approx(20 / 6.5)
    # by hand: pooled p = 0.065; z = (0.20 - 0.05) / sqrt(0.065 * 0.935 * (1/1000 + 1/9000))
    assert young["z"] == pytest.approx(0.15 / math.sqrt(0.065 * 0.935 * (1 / 1000 + 1 / 9000)))
    assert young["flagged"]
    middle = next(g for g in age["groups"] if g["group"] == "35-44")
    assert middle["flagged"]  # cut far less often: a departure too, the other way
    # age, sex and marital status split the two; education does not (both "university", no rest to compare)
    assert fairness["flagged"] == 2 * 3


def test_small_or_merely_noisy_differences_are_not_flagged():
    frame = fairness_frame([
        ("18-24", "female", "other", "single", 60, 30, 0),             # 50 % but only 60 accounts
        ("25-34", "male", "university", "married", 10_000, 1_000, 0),  # 10 %
        ("35-44", "female", "university", "married", 10_000, 1_040, 0),  # 10.4 %: within the band
    ])
    age = {g["group"]: g for g in report_sections.fairness_slice(frame)["attributes"][0]["groups"]}
    assert not age["18-24"]["flagged"]  # too few accounts to judge
    assert not age["35-44"]["flagged"]
    assert not age["25-34"]["flagged"]


def test_an_attribute_the_data_does_not_hold_is_reported_as_not_recorded():
    frame = fairness_frame([("unknown", "female", "unknown", "unknown", 100, 1, 0),
                            ("unknown", "male", "unknown", "unknown", 100, 2, 0)])
    attributes = {a["key"]: a for a in report_sections.fairness_slice(frame)["attributes"]}
    assert attributes["sex"]["recorded"] and not attributes["age_band"]["recorded"]
    assert attributes["age_band"]["groups"] == []


def test_repayment_indicators_give_shares_and_moves_in_percentage_points():
    current = pd.DataFrame({"dpd_bucket": ["current", "1-30", "90+"], "min_payment_bucket": ["0", "0", "6+"],
                            "utilisation_band": ["<30%", "30-70%", ">100%"], "accounts": [80, 15, 5]})
    previous = pd.DataFrame({"dpd_bucket": ["current", "1-30"], "min_payment_bucket": ["0", "1-2"],
                             "utilisation_band": ["<30%", "<30%"], "accounts": [90, 10]})
    sections = {s["key"]: s for s in report_sections.repayment_indicators(current, previous, "2026-11-27", "2026-11-26")}
    dpd = {row["bucket"]: row for row in sections["dpd_bucket"]["rows"]}
    assert dpd["current"]["share"] == pytest.approx(80.0) and dpd["current"]["move_pp"] == pytest.approx(-10.0)
    assert dpd["90+"]["previous_accounts"] == 0 and dpd["90+"]["move_pp"] == pytest.approx(5.0)
    assert "unknown" not in dpd  # an empty 'unknown' bucket is left out
    assert [row["bucket"] for row in sections["dpd_bucket"]["rows"]] == ["current", "1-30", "31-60", "61-90", "90+"]
    minimum = {row["bucket"]: row for row in sections["min_payment_bucket"]["rows"]}
    assert minimum["6+"]["accounts"] == 5 and minimum["1-2"]["previous_share"] == pytest.approx(10.0)
    # two series in the chart (previous, current), one bar per bucket each
    assert len(sections["utilisation_band"]["chart"]["bars"]) == 2 * len(sections["utilisation_band"]["rows"])


def test_without_a_previous_snapshot_there_is_no_move():
    current = pd.DataFrame({"dpd_bucket": ["current"], "min_payment_bucket": ["0"], "utilisation_band": ["<30%"],
                            "accounts": [3]})
    section = report_sections.repayment_indicators(current, None, "2026-11-27", None)[0]
    assert all(row["move_pp"] is None for row in section["rows"])
    assert len(section["chart"]["legend"]) == 1


def test_guardrail_events_split_blocked_from_changed():
    groups = pd.DataFrame({"action": ["HOLD", "DECREASE", "HOLD", "DECREASE", "MANUAL_REVIEW"],
                           "guardrail": ["APPEAL_OPEN", "BALANCE_BUFFER", "COOL_OFF_DECREASE", None,
                                         "MANUAL_REVIEW_REQUIRED"],
                           "accounts": [4, 6, 10, 100, 2]})
    events = report_sections.guardrail_events(groups)
    assert events == [
        {"name": "COOL_OFF_DECREASE", "changed": 0, "blocked": 10, "total": 10},
        {"name": "BALANCE_BUFFER", "changed": 6, "blocked": 0, "total": 6},
        {"name": "APPEAL_OPEN", "changed": 0, "blocked": 4, "total": 4},
        {"name": "MANUAL_REVIEW_REQUIRED", "changed": 2, "blocked": 0, "total": 2},
    ]


def test_the_trend_runs_oldest_first_and_a_night_without_psi_breaks_the_line():
    history = pd.DataFrame({"review_date": ["2026-11-27", "2026-11-26", "2026-11-25"], "changes": [5, 7, 9],
                            "exposure_after_fen": [300, 200, 100], "score_psi": [0.02, None, 0.01]})
    trend = report_sections.trend(history)
    assert (trend["reviews"], trend["first"], trend["last"]) == (3, "2026-11-25", "2026-11-27")
    changes, exposure, psi = trend["charts"]
    assert [bar["title"] for bar in changes["bars"]] == ["11-25: 9", "11-26: 7", "11-27: 5"]
    assert [p["value"] for p in exposure["points"]] == [100, 200, 300]
    assert len(psi["polylines"]) == 2 and len(psi["points"]) == 2  # the gap on 11-26
    assert [g["text"] for g in psi["guides"]] == ["watch", "shifted"]


@pytest.mark.parametrize("peak, step", [(0.3, 0.1), (7, 2), (95, 20), (1_450, 500), (0, 1.0)])
def test_nice_steps_are_round_and_cover_the_peak_in_about_five(peak, step):
    assert report_charts.nice_step(peak) == pytest.approx(step)


def test_grouped_bars_scale_to_the_tallest_bar():
    chart = report_charts.grouped_bar_chart(["a", "b"], [{"name": "x", "colour": "#000", "values": [10, 40],
                                                          "titles": ["a", "b"]}], axis_title="t", width=200, height=100)
    tallest = max(chart["bars"], key=lambda bar: bar["height"])
    top_tick = min(chart["ticks"], key=lambda tick: tick["y"])
    assert tallest["title"] == "b" and tallest["y"] >= top_tick["y"]
    assert chart["bars"][0]["height"] == pytest.approx(tallest["height"] / 4, abs=0.1)
