"""Which files the report viewer may serve and which report a DAG run has: without Airflow, on a
reports folder made here (with a secret file beside it that must never be reachable)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from post_loan_review import report_files
from post_loan_review.report_files import choose_run_report, list_reports, resolve_report_file

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def report_dir(tmp_path):
    """reports/2026-11-26/{live,dry_run} and 2026-11-27/live with files, and a secret outside."""
    (tmp_path / "secret.txt").write_text("outside the reports folder", encoding="utf-8")
    reports = tmp_path / "reports"
    for review_date, run_mode in (("2026-11-26", "live"), ("2026-11-26", "dry_run"), ("2026-11-27", "live")):
        folder = reports / review_date / run_mode
        folder.mkdir(parents=True)
        (folder / "report.html").write_text(f"<h1>{review_date} {run_mode}</h1>", encoding="utf-8")
        (folder / "summary.json").write_text("{}", encoding="utf-8")
    (reports / "2026-11-27" / "live" / "decisions.csv").write_text("account_id\n1\n", encoding="utf-8")
    return reports


def test_a_report_file_of_the_layout_resolves_to_the_file(report_dir):
    path = resolve_report_file(report_dir, "2026-11-27/live/report.html")
    assert path == (report_dir / "2026-11-27" / "live" / "report.html").resolve()
    assert path.read_text(encoding="utf-8") == "<h1>2026-11-27 live</h1>"
    assert resolve_report_file(report_dir, "2026-11-27/live/decisions.csv").name == "decisions.csv"
    assert resolve_report_file(report_dir, "2026-11-26/dry_run/summary.json").name == "summary.json"


@pytest.mark.parametrize("relative", [
    "../secret.txt",
    "2026-11-27/../../secret.txt",
    "2026-11-27/live/../../../secret.txt",
    "..%2Fsecret.txt",
    "2026-11-27/live/%2e%2e/%2e%2e/%2e%2e/secret.txt",
    "/etc/passwd",
    "//etc/passwd",
    "2026-11-27\\live\\report.html",
    "2026-11-27/live/report.html/",
    "2026-11-27/live//report.html",
    "2026-11-27/live/report.html\x00.txt",
    "2026-11-27/live",
    "",
    "2026-11-27/simulation/report.html",
    "2026-11-27/live/other.html",
    "2026-13-01/live/report.html",
    "not-a-date/live/report.html",
    "2026-11-28/live/report.html",  # the shape is right, the file is not there
])
def test_anything_but_an_existing_report_file_is_refused(report_dir, relative):
    assert resolve_report_file(report_dir, relative) is None


def test_an_absolute_path_to_a_real_report_is_refused(report_dir):
    absolute = str(report_dir / "2026-11-27" / "live" / "report.html")
    assert Path(absolute).is_file() and resolve_report_file(report_dir, absolute) is None


def test_symlinks_that_lead_out_of_the_folder_are_refused(report_dir, tmp_path):
    outside = tmp_path / "outside" / "live"
    outside.mkdir(parents=True)
    (outside / "report.html").write_text("not a report", encoding="utf-8")
    (report_dir / "2026-11-28").symlink_to(tmp_path / "outside")  # a date folder that points out
    (report_dir / "2026-11-26" / "live" / "decisions.csv").symlink_to(tmp_path / "secret.txt")  # a file
    assert (report_dir / "2026-11-28" / "live" / "report.html").is_file()  # the links work ...
    assert resolve_report_file(report_dir, "2026-11-28/live/report.html") is None  # ... and are refused
    assert resolve_report_file(report_dir, "2026-11-26/live/decisions.csv") is None


def test_a_symlink_that_stays_inside_the_folder_is_served(report_dir):
    (report_dir / "2026-11-25").symlink_to(report_dir / "2026-11-26")
    assert resolve_report_file(report_dir, "2026-11-25/live/report.html") == \
        (report_dir / "2026-11-26" / "live" / "report.html").resolve()


def test_a_folder_named_like_a_report_file_is_refused(report_dir):
    (report_dir / "2026-11-26" / "live" / "decisions.csv").mkdir()
    assert resolve_report_file(report_dir, "2026-11-26/live/decisions.csv") is None


def test_a_missing_reports_folder_serves_nothing(tmp_path):
    assert resolve_report_file(tmp_path / "nowhere", "2026-11-27/live/report.html") is None
    assert list_reports(tmp_path / "nowhere") == []


def built(review_date="2026-11-27", run_mode="live", report_path="/elsewhere/2026-11-27/live/report.html"):
    return {"review_date": review_date, "run_mode": run_mode, "report_path": report_path, "accounts_reviewed": 5}


def test_a_finished_run_has_its_report_by_the_layout_under_this_folder(report_dir):
    # the worker's report_path may be another mount of the same volume: the layout finds the file
    report = choose_run_report(report_dir, built(), {"review_date": "2026-11-27", "run_mode": "live"})
    assert report == report_files.RunReport("2026-11-27", "live", "2026-11-27/live/report.html", None)
    dry = choose_run_report(report_dir, built("2026-11-26", "dry_run"), None)
    assert dry.location == "2026-11-26/dry_run/report.html" and dry.problem is None


def test_a_run_without_build_report_has_no_report_even_when_the_date_has_one(report_dir):
    # 2026-11-27/live/report.html exists, from an earlier run of that date: not this run's
    report = choose_run_report(report_dir, None, {"review_date": "2026-11-27", "run_mode": "live"})
    assert report.location is None and "not produced a report" in report.problem
    assert (report.review_date, report.run_mode) == ("2026-11-27", "live")
    nothing = choose_run_report(report_dir, None, None)
    assert nothing == report_files.RunReport(None, None, None, nothing.problem) and nothing.problem


def test_a_built_report_whose_file_is_gone_says_so(report_dir):
    report = choose_run_report(report_dir, built("2026-11-20"), None)
    assert report.location is None and "2026-11-20/live/report.html is not in the reports folder" in report.problem


@pytest.mark.parametrize("value", [
    built("../../etc", "live"), built("2026-11-27", "../live"), built("2026-11-27", "simulation"),
    {"report_path": "/etc/passwd"}, "2026-11-27/live/report.html",
])
def test_xcom_values_that_do_not_name_a_review_report_are_refused(report_dir, value):
    report = choose_run_report(report_dir, value, None)
    assert report.location is None and report.problem


def test_the_list_is_newest_first_with_the_files_present(report_dir):
    (report_dir / "not-a-date").mkdir()
    (report_dir / "2026-11-25" / "live").mkdir(parents=True)  # empty: not listed
    (report_dir / "outbox").mkdir()
    assert list_reports(report_dir) == [
        report_files.ReportSet("2026-11-27", "live", ("report.html", "decisions.csv", "summary.json")),
        report_files.ReportSet("2026-11-26", "live", ("report.html", "summary.json")),
        report_files.ReportSet("2026-11-26", "dry_run", ("report.html", "summary.json")),
    ]


def test_the_index_page_links_each_file_relative_to_itself(report_dir):
    page = report_files.index_page(list_reports(report_dir))
    assert page.index("2026-11-27") < page.index("2026-11-26")
    assert '<a href="2026-11-27/live/report.html">report</a>' in page
    assert '<a href="2026-11-27/live/decisions.csv" download>' in page
    assert "<script" not in page
    assert "No review report" in report_files.index_page([])


def test_the_message_page_escapes_what_it_is_given():
    page = report_files.message_page("Report not built yet", "Run <script>alert(1)</script>", index_href="../x/")
    assert "<script>" not in page and "&lt;script&gt;" in page and 'href="../x/"' in page


def test_the_served_names_are_the_ones_the_report_builder_writes():
    from post_loan_review import reports

    assert set(report_files.MEDIA_TYPES) == {reports.REPORT_FILE, reports.DECISIONS_FILE, reports.SUMMARY_FILE}
    assert report_files.REVIEW_RUN_MODES == ("live", "dry_run")


def test_the_module_imports_nothing_from_airflow():
    code = ("import sys, post_loan_review.report_files; "
            "sys.exit(sorted(m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')) or 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "include")})
    assert result.returncode == 0, result.stderr
