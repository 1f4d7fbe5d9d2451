"""The geometry of the report's SVG charts: numbers in, coordinates out. The template draws them,
so a chart is plain inline SVG (no script, no external file) that prints as it shows."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

NICE_STEPS = (1, 2, 2.5, 5)


def nice_step(peak: float, ticks: int = 5) -> float:
    """A round tick step (1, 2, 2.5 or 5 times a power of ten) that covers ``peak`` in about
    ``ticks`` steps."""
    if peak <= 0:
        return 1.0
    raw = peak / ticks
    power = 10 ** np.floor(np.log10(raw))
    return float(next(step * power for step in (*NICE_STEPS, 10) if step * power >= raw))


def hbar_chart(rows: list[dict[str, Any]], width: int = 460, label_width: int = 150,
               value_width: int = 130, row_height: int = 30) -> dict[str, Any]:
    """A horizontal bar chart: each row has label, value (a number), text and colour."""
    top = max((row["value"] for row in rows), default=0) or 1
    span = width - label_width - value_width
    bars = []
    for index, row in enumerate(rows):
        bar_width = span * row["value"] / top
        bars.append({**row, "y": index * row_height, "x": label_width,
                     "width": round(max(bar_width, 1.5 if row["value"] else 0), 1),
                     "height": row_height - 10, "text_x": round(label_width + bar_width + 6, 1),
                     "text_y": index * row_height + (row_height - 10) / 2 + 4})
    return {"width": width, "height": len(rows) * row_height, "bars": bars}


def grouped_bar_chart(categories: Sequence[str], series: Sequence[dict[str, Any]], axis_title: str,
                      width: int = 900, height: int = 270, unit: str = "%") -> dict[str, Any]:
    """Vertical bars side by side per category, one colour per series. Each series is
    ``{"name", "colour", "values" (one per category), "titles" (hover text per category)}``."""
    left, right, top, bottom = 46, 8, 12, 42
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((float(np.max(s["values"])) for s in series if len(s["values"])), default=0.0)
    step = nice_step(peak)
    y_max = max(step, step * np.ceil(peak / step)) if peak > 0 else step
    group = plot_w / max(len(categories), 1)
    bar_w = group * 0.8 / max(len(series), 1)
    bars = []
    for position, one in enumerate(series):
        for index, value in enumerate(one["values"]):
            bar_h = plot_h * float(value) / y_max
            bars.append({"x": round(left + index * group + group * 0.1 + position * bar_w, 1),
                         "y": round(top + plot_h - bar_h, 1), "width": round(max(bar_w - 1, 1), 1),
                         "height": round(bar_h, 1), "fill": one["colour"], "title": one["titles"][index]})
    labels = [{"x": round(left + (index + 0.5) * group, 1), "y": height - bottom + 16, "text": text}
              for index, text in enumerate(categories)]
    ticks = [{"y": round(top + plot_h - plot_h * v / y_max, 1), "text": f"{v:g}{' ' + unit if unit else ''}"}
             for v in np.arange(0, y_max + step / 2, step)]
    return {"width": width, "height": height, "left": left, "right": width - right, "top": top,
            "baseline": top + plot_h, "bars": bars, "labels": labels, "ticks": ticks,
            "legend": [{"colour": s["colour"], "text": s["name"]} for s in series],
            "axis_title": axis_title, "axis_title_y": height - 6, "axis_title_x": left + plot_w / 2}


def line_chart(labels: Sequence[str], values: Sequence[float | None], colour: str, title: str,
               tick_format: Callable[[float], str], width: int = 300, height: int = 150,
               guides: Sequence[tuple[float, str]] = (), columns: bool = False) -> dict[str, Any]:
    """A small chart of one figure over the reviews (oldest left): a line with dots, or columns.
    Missing values leave a gap. ``guides`` are horizontal reference lines (value, label)."""
    left, right, top, bottom = 58, 8, 10, 24
    plot_w, plot_h = width - left - right, height - top - bottom
    known = [float(v) for v in values if v is not None]
    peak = max(known + [g for g, _ in guides], default=0.0)
    step = nice_step(peak, ticks=3)
    y_max = max(step, step * np.ceil(peak / step)) if peak > 0 else step
    slot = plot_w / max(len(labels), 1)

    def y_of(value: float) -> float:
        return round(top + plot_h - plot_h * value / y_max, 1)

    points = [{"x": round(left + (i + 0.5) * slot, 1), "y": y_of(float(v)), "title": f"{labels[i]}: {tick_format(v)}",
               "value": v} for i, v in enumerate(values) if v is not None]
    segments, current = [], []
    for i, v in enumerate(values):  # a gap (no figure that night) breaks the line
        if v is None:
            if current:
                segments.append(current)
            current = []
        else:
            current.append(f"{round(left + (i + 0.5) * slot, 1)},{y_of(float(v))}")
    if current:
        segments.append(current)
    bars = [{"x": round(p["x"] - slot * 0.35, 1), "y": p["y"], "width": round(max(slot * 0.7, 1), 1),
             "height": round(top + plot_h - p["y"], 1), "title": p["title"]} for p in points] if columns else []
    every = max(1, int(np.ceil(len(labels) / 5)))  # at most about five date labels
    x_labels = [{"x": round(left + (i + 0.5) * slot, 1), "text": text} for i, text in enumerate(labels)
                if i % every == 0 or i == len(labels) - 1]
    return {"width": width, "height": height, "left": left, "right": width - right, "baseline": top + plot_h,
            "colour": colour, "title": title, "points": [] if columns else points, "bars": bars,
            "polylines": [] if columns else [" ".join(s) for s in segments],
            "ticks": [{"y": y_of(v), "text": tick_format(v)} for v in np.arange(0, y_max + step / 2, step)],
            "guides": [{"y": y_of(v), "text": text} for v, text in guides],
            "x_labels": x_labels, "x_label_y": height - 6}
