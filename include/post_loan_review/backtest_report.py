"""The backtest report: ``report.html`` (self-contained, inline SVG charts) beside ``summary.json``."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Mapping

from post_loan_review.config import TEMPLATE_DIR


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f} %"


def bar_chart(title: str, rows: list[tuple[str, float | None]], width: int = 520) -> str:
    """A horizontal bar chart of shares (0..1) as inline SVG, each bar labelled with its value."""
    label_width, bar_height, gap = 170, 18, 6
    height = 28 + len(rows) * (bar_height + gap)
    scale = max([v for _, v in rows if v is not None] + [1e-9])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{html.escape(title)}"><text x="0" y="16" font-size="13" font-weight="bold">'
             f'{html.escape(title)}</text>']
    for index, (label, value) in enumerate(rows):
        y = 26 + index * (bar_height + gap)
        length = 0 if value is None else (width - label_width - 70) * value / scale
        parts.append(f'<text x="0" y="{y + 13}" font-size="12">{html.escape(label)}</text>'
                     f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height}" fill="#4a78a8"/>'
                     f'<text x="{label_width + length + 4:.1f}" y="{y + 13}" font-size="12">{pct(value)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _charts(summary: Mapping[str, Any]) -> list[str]:
    final = summary["final_review"]
    charts = [bar_chart(f"Review of {final['review_date']}: cut in force", [
        ("bad accounts cut", final["bad_cut_share"]), ("good accounts cut", final["good_cut_share"]),
        ("bad exposure cut", final["bad_exposure_cut_share"])])]
    charts.append(bar_chart("Later bad rate by review date", [(d, m["bad_rate"]) for d, m in summary["per_month"].items()]))
    charts.append(bar_chart("Bad accounts cut (in force), by review date",
                            [(d, m["bad_cut_share"]) for d, m in summary["per_month"].items()]))
    charts.append(bar_chart("Good accounts cut (in force), by review date",
                            [(d, m["good_cut_share"]) for d, m in summary["per_month"].items()]))
    for attribute, title in (("sex", "Cut rate by sex"), ("age_band", "Cut rate by age band")):
        rows = summary.get("fairness", {}).get(attribute, [])
        if rows:
            charts.append(bar_chart(f"{title} (review of {final['review_date']})",
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
