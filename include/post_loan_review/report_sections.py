"""The report's analytical sections, from small aggregated frames (``sql/report/``) to rows and
charts: repayment habits against the previous snapshot, guardrail events, the fairness slice and
the trend over the latest reviews. Pure functions: no database, no files."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from post_loan_review.money import FEN_PER_YUAN
from post_loan_review.report_charts import grouped_bar_chart, line_chart

# the buckets of sql/report/repayment_indicators.sql, in display order, with their headings
REPAYMENT_INDICATORS = {
    "dpd_bucket": ("逾期天数", "Days past due", ["current", "1-30", "31-60", "61-90", "90+", "unknown"]),
    "min_payment_bucket": ("连续仅还最低额月数", "Consecutive minimum-payment-only months",
                           ["0", "1-2", "3-5", "6+", "unknown"]),
    "utilisation_band": ("额度使用率", "Utilisation (balance / limit)",
                         ["<30%", "30-70%", "70-100%", ">100%", "unknown"]),
}
CURRENT_COLOUR, PREVIOUS_COLOUR = "#2d6cdf", "#b7c0cc"

# protected attributes of customer_profiles, never inputs to a decision
FAIRNESS_ATTRIBUTES = {"age_band": ("年龄段", "Age band"), "sex": ("性别", "Sex"),
                       "education": ("教育程度", "Education"), "marital_status": ("婚姻状况", "Marital status")}
AGE_BAND_ORDER = ["18-24", "25-34", "35-44", "45-54", "55+", "unknown"]
# a group is flagged when its cut rate differs from the rest of the book beyond chance (|z| >= 3)
# AND by more than the four-fifths rule allows either way, with enough accounts to judge
FAIRNESS_MIN_ACCOUNTS = 100
FAIRNESS_MIN_Z = 3.0
FAIRNESS_RATIO_BAND = (0.8, 1.25)

# the groups and buckets as the zh-CN view shows them (the en view shows the keys)
LABELS_ZH = {"current": "未逾期", "unknown": "未知", "female": "女", "male": "男", "graduate_school": "研究生",
             "university": "大学", "high_school": "高中", "other": "其他", "married": "已婚", "single": "未婚",
             "55+": "55岁及以上"}

BLOCKING_ACTION = "HOLD"  # a guardrail that leaves the decision at HOLD blocked the proposal


def _pct(part: float, whole: float) -> float | None:
    return part * 100 / whole if whole else None


def repayment_indicators(current: pd.DataFrame, previous: pd.DataFrame | None, current_label: str,
                         previous_label: str | None) -> list[dict[str, Any]]:
    """Per indicator: each bucket's accounts and share on the review date and on the previous
    snapshot, the move in percentage points, and a chart of both distributions."""
    sections = []
    for column, (zh, en, buckets) in REPAYMENT_INDICATORS.items():
        now = current.groupby(column)["accounts"].sum() if len(current) else pd.Series(dtype="int64")
        before = previous.groupby(column)["accounts"].sum() if previous is not None and len(previous) else None
        now_total = int(now.sum())
        before_total = int(before.sum()) if before is not None else 0
        rows = []
        for bucket in buckets:
            count = int(now.get(bucket, 0))
            prior = int(before.get(bucket, 0)) if before is not None else None
            share = _pct(count, now_total)
            prior_share = _pct(prior, before_total) if prior is not None else None
            rows.append({"bucket": bucket, "accounts": count, "share": share, "previous_accounts": prior,
                         "previous_share": prior_share,
                         "move_pp": None if share is None or prior_share is None else share - prior_share})
        rows = [row for row in rows if row["accounts"] or row["previous_accounts"] or row["bucket"] != "unknown"]
        series = []
        if before is not None:
            series.append({"name": str(previous_label), "colour": PREVIOUS_COLOUR,
                           "values": [row["previous_share"] or 0.0 for row in rows],
                           "titles": [f"{row['bucket']} on {previous_label}: {row['previous_accounts']:,} "
                                      f"({row['previous_share'] or 0:.1f} %)" for row in rows]})
        series.append({"name": str(current_label), "colour": CURRENT_COLOUR,
                       "values": [row["share"] or 0.0 for row in rows],
                       "titles": [f"{row['bucket']} on {current_label}: {row['accounts']:,} ({row['share'] or 0:.1f} %)"
                                  for row in rows]})
        sections.append({"key": column, "zh": zh, "en": en, "rows": rows, "accounts": now_total,
                         "chart": grouped_bar_chart([row["bucket"] for row in rows], series,
                                                    axis_title="share of accounts", width=300, height=200)})
    return sections


def guardrail_events(groups: pd.DataFrame) -> list[dict[str, Any]]:
    """Per guardrail: the decisions it changed (the action went through, shaped) and those it
    blocked (left at HOLD), from ``report/decision_counts``; most decisions first."""
    shaped = groups[groups["guardrail"].notna()]
    rows = []
    for guardrail, part in shaped.groupby("guardrail"):
        blocked = int(part.loc[part["action"].astype(str) == BLOCKING_ACTION, "accounts"].sum())
        total = int(part["accounts"].sum())
        rows.append({"name": str(guardrail), "changed": total - blocked, "blocked": blocked, "total": total})
    return sorted(rows, key=lambda row: (-row["total"], row["name"]))


def _z_score(cut: int, accounts: int, book_cut: int, book_accounts: int) -> float | None:
    """Two-proportion z of a group's cut rate against the rest of the book."""
    rest_cut, rest_accounts = book_cut - cut, book_accounts - accounts
    if accounts == 0 or rest_accounts == 0:
        return None
    pooled = book_cut / book_accounts
    spread = math.sqrt(pooled * (1 - pooled) * (1 / accounts + 1 / rest_accounts))
    return None if spread == 0 else (cut / accounts - rest_cut / rest_accounts) / spread


def fairness_slice(frame: pd.DataFrame) -> dict[str, Any]:
    """Decrease and freeze rates per group of each protected attribute against the book's, from
    ``report/fairness_counts``; a group is flagged when its cut rate (decrease or freeze) departs
    from the rest of the book both beyond chance and beyond the four-fifths band."""
    book_accounts = int(frame["accounts"].sum()) if len(frame) else 0
    book_cut = int((frame["decreases"] + frame["freezes"]).sum()) if len(frame) else 0
    book_rate = _pct(book_cut, book_accounts)
    attributes = []
    for column, (zh, en) in FAIRNESS_ATTRIBUTES.items():
        if not len(frame):
            break
        totals = frame.groupby(column)[["accounts", "decreases", "freezes"]].sum()
        known = totals.drop(index="unknown", errors="ignore")
        if known["accounts"].sum() == 0:  # the data holds no such attribute
            attributes.append({"key": column, "zh": zh, "en": en, "groups": [], "recorded": False})
            continue
        order = AGE_BAND_ORDER if column == "age_band" else sorted(totals.index, key=lambda g: (g == "unknown", g))
        groups = []
        for group in [g for g in order if g in totals.index]:
            accounts, decreases, freezes = (int(totals.at[group, name]) for name in ("accounts", "decreases", "freezes"))
            cut_rate = _pct(decreases + freezes, accounts)
            ratio = cut_rate / book_rate if cut_rate is not None and book_rate else None
            z = _z_score(decreases + freezes, accounts, book_cut, book_accounts)
            flagged = (accounts >= FAIRNESS_MIN_ACCOUNTS and z is not None and abs(z) >= FAIRNESS_MIN_Z
                       and ratio is not None and not FAIRNESS_RATIO_BAND[0] <= ratio <= FAIRNESS_RATIO_BAND[1])
            groups.append({"group": str(group), "accounts": accounts, "decrease_rate": _pct(decreases, accounts),
                           "freeze_rate": _pct(freezes, accounts), "cut_rate": cut_rate, "ratio": ratio,
                           "z": z, "flagged": bool(flagged),
                           "bar": round(160 * (cut_rate or 0) / max(2 * (book_rate or 0), cut_rate or 0, 1e-9), 1)})
        attributes.append({"key": column, "zh": zh, "en": en, "groups": groups, "recorded": True})
    return {"book_accounts": book_accounts, "book_cut_rate": book_rate,
            "book_decrease_rate": _pct(int(frame["decreases"].sum()), book_accounts) if len(frame) else None,
            "book_freeze_rate": _pct(int(frame["freezes"].sum()), book_accounts) if len(frame) else None,
            "attributes": attributes, "flagged": sum(g["flagged"] for a in attributes for g in a["groups"]),
            "book_bar": 80.0 if book_rate else 0.0}


def _compact_yuan(fen: float) -> str:
    yuan = fen / FEN_PER_YUAN
    for size, suffix in ((1e9, " bn"), (1e6, " M"), (1e3, " k")):
        if abs(yuan) >= size:
            return f"¥{yuan / size:.3g}{suffix}"
    return f"¥{yuan:.0f}"


def trend(history: pd.DataFrame) -> dict[str, Any]:
    """The latest reviews (``report/review_history``, newest first) as three small charts, oldest
    left: changes per night, exposure after the review, score PSI."""
    ordered = history.iloc[::-1]
    labels = [str(day)[5:10] for day in ordered["review_date"]]
    psi = [None if pd.isna(v) else float(v) for v in ordered["score_psi"]]
    return {
        "reviews": len(ordered),
        "first": str(ordered["review_date"].iloc[0])[:10] if len(ordered) else None,
        "last": str(ordered["review_date"].iloc[-1])[:10] if len(ordered) else None,
        "charts": [
            line_chart(labels, [int(v) for v in ordered["changes"]], "#e07b39", "额度变动 Changes per night",
                       lambda v: f"{int(v):,}", columns=True),
            line_chart(labels, [int(v) for v in ordered["exposure_after_fen"]], "#2d6cdf",
                       "复核后敞口 Exposure after", _compact_yuan),
            line_chart(labels, psi, "#5b4b8a", "评分漂移 Score PSI", lambda v: f"{v:.2f}",
                       guides=[(0.10, "watch"), (0.25, "shifted")]),
        ],
    }
