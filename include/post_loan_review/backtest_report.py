"""The backtest report: ``report.html`` (self-contained, inline SVG charts) beside ``summary.json``.
Chart geometry comes from ``report_charts`` and is drawn by the macros the nightly report uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from post_loan_review.config import TEMPLATE_DIR
from post_loan_review.report_charts import hbar_chart


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f} %"


def _share_chart(title: str, rows: list[tuple[str, float | None]]) -> dict[str, Any]:
    """A horizontal bar chart of shares (0..1), each bar labelled with its value."""
    return {"title": title, "chart": hbar_chart([{"label": label, "value": value or 0.0, "colour": "#4a78a8",
                                                  "text": pct(value)} for label, value in rows],
                                                 width=520, label_width=170, value_width=70, row_height=24)}


def _charts(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    final = summary["final_review"]
    charts = [_share_chart(f"Review of {final['review_date']}: cut in force", [
        ("bad accounts cut", final["bad_cut_share"]), ("good accounts cut", final["good_cut_share"]),
        ("bad exposure cut", final["bad_exposure_cut_share"])])]
    charts.append(_share_chart("Later bad rate by review date",
                               [(d, m["bad_rate"]) for d, m in summary["per_month"].items()]))
    charts.append(_share_chart("Bad accounts cut (in force), by review date",
                               [(d, m["bad_cut_share"]) for d, m in summary["per_month"].items()]))
    charts.append(_share_chart("Good accounts cut (in force), by review date",
                               [(d, m["good_cut_share"]) for d, m in summary["per_month"].items()]))
    for attribute, title in (("sex", "Cut rate by sex"), ("age_band", "Cut rate by age band")):
        rows = summary.get("fairness", {}).get(attribute, [])
        if rows:
            charts.append(_share_chart(f"{title} (review of {final['review_date']})",
                                       [(r["group"], r["cut_rate"]) for r in rows]))
    return charts


def write(summary: Mapping[str, Any], out_dir: Path) -> Path:
    """Render the report into ``out_dir``; its path."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    environment = Environment(loader=FileSystemLoader(TEMPLATE_DIR), autoescape=select_autoescape(["html", "j2"]))
    environment.filters["pct"] = pct
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "report.html"
    path.write_text(environment.get_template("backtest.html.j2").render(s=summary, charts=_charts(summary)),
                    encoding="utf-8")
    return path
