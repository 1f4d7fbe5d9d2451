"""The review reports as files a viewer may serve: which paths are safe to open under the reports
folder, which report belongs to a DAG run, what the folder holds, and the viewer's small pages.

No Airflow import: the report viewer plugin (plugins/report_viewer.py) reads Airflow's metadata
and hands the plain values here. Layout (reports.py writes it)::

    <report_dir>/<YYYY-MM-DD>/<live|dry_run>/report.html, decisions.csv, summary.json
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

REPORT_HTML, DECISIONS_CSV, SUMMARY_JSON = "report.html", "decisions.csv", "summary.json"
# the only files served, with the media type each is served as
MEDIA_TYPES = {
    REPORT_HTML: "text/html; charset=utf-8",
    DECISIONS_CSV: "text/csv; charset=utf-8",
    SUMMARY_JSON: "application/json",
}
REVIEW_RUN_MODES = ("live", "dry_run")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def review_date_text(value: Any) -> str | None:
    """``value`` as a YYYY-MM-DD date string when it is one, else None (folder names, XCom values)."""
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        return None
    try:
        date.fromisoformat(value)
    except ValueError:
        return None
    return value


def report_location(review_date: str, run_mode: str, name: str = REPORT_HTML) -> str:
    """A file's path relative to the reports folder: ``<date>/<mode>/<name>``."""
    return f"{review_date}/{run_mode}/{name}"


def resolve_report_file(report_dir: Path, relative: str) -> Path | None:
    """The file ``relative`` names under ``report_dir``, or None unless it is one of the served files
    (``<date>/<live|dry_run>/<report.html|decisions.csv|summary.json>``) and, once every symlink is
    followed, a regular file inside the folder. Absolute paths, ``..``, backslashes and anything
    outside the layout are refused by shape before the file system is asked."""
    parts = relative.split("/")
    if len(parts) != 3:
        return None
    review_date, run_mode, name = parts
    if review_date_text(review_date) is None or run_mode not in REVIEW_RUN_MODES or name not in MEDIA_TYPES:
        return None
    try:
        root = Path(report_dir).resolve(strict=True)
        candidate = (root / review_date / run_mode / name).resolve(strict=True)
    except (OSError, RuntimeError):  # missing, or a symlink loop
        return None
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None  # a symlink that leads out of the folder, or not a file
    return candidate


@dataclass(frozen=True)
class RunReport:
    """What a DAG run's XComs say about its report. ``location`` (relative to the reports folder)
    is set only when build_report finished and the file is there; otherwise ``problem`` says why."""

    review_date: str | None
    run_mode: str | None
    location: str | None
    problem: str | None


def choose_run_report(report_dir: Path, built: Any, resolved: Any) -> RunReport:
    """The report of one run from its XCom ``return_value``s: ``built`` of build_report (review_date,
    run_mode, report_path), ``resolved`` of resolve_review_date (review_date, run_mode); either may be
    None. Only a finished build_report counts: an older run of the same date wrote the same folder,
    and showing its file for this run would be wrong."""
    built = built if isinstance(built, dict) else {}
    resolved = resolved if isinstance(resolved, dict) else {}
    review_date = review_date_text(built.get("review_date")) or review_date_text(resolved.get("review_date"))
    run_mode = built.get("run_mode") or resolved.get("run_mode")
    run_mode = run_mode if run_mode in REVIEW_RUN_MODES else None
    if not built:
        return RunReport(review_date, run_mode, None, "build_report has not produced a report for this run yet")
    if review_date is None or run_mode is None:
        return RunReport(review_date, run_mode, None, "build_report's result names no review date and run mode")
    location = report_location(review_date, run_mode)
    # report_path is where the worker wrote it; the API server may mount the same volume elsewhere,
    # so the file is looked up by the layout under this server's reports folder
    if resolve_report_file(report_dir, location) is None:
        return RunReport(review_date, run_mode, None,
                         f"the report {location} is not in the reports folder (removed, or another volume)")
    return RunReport(review_date, run_mode, location, None)


@dataclass(frozen=True)
class ReportSet:
    """The files of one review date and run mode present in the reports folder."""

    review_date: str
    run_mode: str
    files: tuple[str, ...]


def list_reports(report_dir: Path) -> list[ReportSet]:
    """Every review date and run mode with at least one served file, newest date first (live
    before dry run on the same date)."""
    root = Path(report_dir)
    if not root.is_dir():
        return []
    found = []
    dates = sorted((p.name for p in root.iterdir() if review_date_text(p.name)), reverse=True)
    for review_date in dates:
        for run_mode in REVIEW_RUN_MODES:
            files = tuple(name for name in MEDIA_TYPES
                          if resolve_report_file(root, report_location(review_date, run_mode, name)))
            if files:
                found.append(ReportSet(review_date, run_mode, files))
    return found


# -- the viewer's own pages (inline CSS only: the viewer's Content-Security-Policy allows no script) --

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font:14px/1.5 system-ui,sans-serif;margin:1.5rem;color:#1f2937}}h1{{font-size:1.25rem}}
table{{border-collapse:collapse}}td,th{{padding:.25rem .75rem;border-bottom:1px solid #e5e7eb;text-align:left}}
.muted{{color:#6b7280}}</style></head>
<body><h1>{title}</h1>
{body}
</body></html>
"""


def message_page(title: str, *lines: str, index_href: str | None = None) -> str:
    """A small page that says something plainly (a report not built yet, a run not found)."""
    body = "".join(f"<p>{html.escape(line)}</p>\n" for line in lines)
    if index_href is not None:
        body += f'<p class="muted"><a href="{html.escape(index_href)}">All review reports</a></p>\n'
    return _PAGE.format(title=html.escape(title), body=body)


def index_page(reports: list[ReportSet]) -> str:
    """The list of reports, newest first, with links relative to the index's own URL."""
    labels = {REPORT_HTML: "report", DECISIONS_CSV: "decisions (CSV)", SUMMARY_JSON: "summary (JSON)"}
    if not reports:
        return message_page("Review reports", "No review report has been built yet.")
    rows = []
    for entry in reports:
        links = " · ".join(
            f'<a href="{html.escape(report_location(entry.review_date, entry.run_mode, name))}"'
            f'{" download" if name == DECISIONS_CSV else ""}>{labels[name]}</a>'
            for name in entry.files)
        rows.append(f"<tr><td>{entry.review_date}</td><td>{entry.run_mode.replace('_', ' ')}</td><td>{links}</td></tr>")
    body = ("<table><thead><tr><th>Review date</th><th>Mode</th><th>Files</th></tr></thead><tbody>\n"
            + "\n".join(rows) + "\n</tbody></table>")
    return _PAGE.format(title="Review reports", body=body)
