"""A small backtest end to end on the first accounts of the real UCI file: the replay through the
pipeline, the report and JSON, no look-ahead, and no protected attribute near a decision."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from sqlalchemy import create_engine, inspect, text

from post_loan_review import backtest, uci

SAMPLE = 400


def _decisions(url: str) -> pd.DataFrame:
    return backtest.read_results(url)["decisions"].sort_values(["review_date", "account_id"]).reset_index(drop=True)


def test_backtest_end_to_end(tmp_path):
    url = f"sqlite:///{tmp_path / 'backtest.db'}"
    summary = backtest.run_uci(backtest.DEFAULT_POLICY, sample=SAMPLE, database_url=url, out_dir=tmp_path / "report")
    raw = uci.read_uci(nrows=SAMPLE)
    assert summary["review_dates"] == [d.isoformat() for d in uci.MONTH_ENDS]
    final = summary["final_review"]
    assert final["accounts"] == SAMPLE and final["bad"] == int(raw[uci.DEFAULT_COLUMN].sum())
    for month in summary["per_month"].values():
        assert sum(row["accounts"] for row in month["by_action"]) == SAMPLE
        assert sum(row["share_of_bad"] for row in month["by_action"]) == pytest.approx(1.0)
    assert 0.5 < final["auc_score"] <= 1 and 0 <= final["good_cut_share"] <= final["bad_cut_share"]
    # the September decisions read the adapter's derived score of September, from the real pipeline
    decisions = _decisions(url)
    september = decisions[decisions["review_date"] == pd.Timestamp(uci.MONTH_ENDS[5])]
    assert september["score"].astype(int).tolist() == uci.behaviour_score(raw, 5).tolist()
    report = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    assert "CC BY 4.0" in report and "<svg" in report and "Fairness slice" in report
    saved = json.loads((tmp_path / "report" / "summary.json").read_text(encoding="utf-8"))
    assert saved["final_review"]["auc_score"] == pytest.approx(final["auc_score"])
    # protected attributes are loaded (for the fairness slice) but never reach a decision's tables
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from customer_profiles where sex is not null")).scalar() == SAMPLE
    protected = {"sex", "age", "birth_year", "education", "marital_status", "marriage", "customer_id"}
    for table in ("review_inputs", "staged_decisions", "limit_decisions", "decision_traces"):
        assert not {c["name"] for c in inspect(engine).get_columns(table)} & protected, table
    engine.dispose()


def test_later_months_do_not_change_earlier_decisions(tmp_path):
    raw = uci.read_uci(nrows=150)
    altered = raw.copy()
    for later in range(3, 6):  # July .. September: everyone 8 months late, lines maxed out
        altered[uci.STATUS_COLUMNS[later]] = 8
        altered[uci.BILL_COLUMNS[later]] = altered["LIMIT_BAL"]
    first, second = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    backtest.replay_uci(raw, "v3", first)
    backtest.replay_uci(altered, "v3", second)
    original, changed = _decisions(first), _decisions(second)
    early = pd.Timestamp(uci.MONTH_ENDS[3])
    pd.testing.assert_frame_equal(original[original["review_date"] < early], changed[changed["review_date"] < early])
    late = changed[changed["review_date"] >= early]
    assert not late.reset_index(drop=True).equals(original[original["review_date"] >= early].reset_index(drop=True))


def test_the_backtest_refuses_the_configured_warehouse(warehouse):
    with pytest.raises(ValueError, match="must not use PLR_DATABASE_URL"):
        backtest.replay_uci(uci.read_uci(nrows=5), "v3", str(warehouse.url))
