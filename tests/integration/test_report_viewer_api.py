"""The report viewer plugin inside a real Airflow API server (tests/report_viewer_server.py): every
route needs Airflow's login and read access to post_loan_review, every answer carries the CSP, a
finished run leads to its report, an unfinished one to a page that says so, and no path leads out
of the reports folder."""

from __future__ import annotations

import http.client
import json
from urllib.parse import quote

import pytest
from report_viewer_server import REVIEW_DATE

pytestmark = pytest.mark.airflow

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
REPORT = f"/post-loan-review/reports/{REVIEW_DATE}/live/report.html"
SECRET = "account numbers that must never leave the server"


def get(server, path: str, token: str | None = None, cookie: str | None = None):
    """GET ``path`` exactly as written (no client-side normalisation of ``..`` or escapes)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if cookie:
        headers["Cookie"] = f"_token={cookie}"
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def run_path(run_id: str) -> str:
    return f"/post-loan-review/runs/post_loan_review/{quote(run_id, safe='')}"


@pytest.fixture(scope="module")
def tokens(report_viewer_server):
    return {user: report_viewer_server.token(user) for user in ("admin", "reviewer", "outsider")}


def every_route(server) -> list[str]:
    return ["/post-loan-review/reports/", REPORT, f"/post-loan-review/reports/{REVIEW_DATE}/live/decisions.csv",
            f"/post-loan-review/reports/{REVIEW_DATE}/live/summary.json", run_path(server.finished_run_id),
            run_path(server.pending_run_id), "/post-loan-review/reports/../../../../etc/passwd"]


def test_every_route_refuses_a_request_without_credentials(report_viewer_server):
    for path in every_route(report_viewer_server):
        status, headers, body = get(report_viewer_server, path)
        assert status == 401, (path, status, body[:200])
        assert headers["content-security-policy"] == CSP and headers["x-content-type-options"] == "nosniff"
        assert b"<svg" not in body


def test_a_forged_token_is_refused_in_the_header_and_in_the_cookie(report_viewer_server, tokens):
    forged = tokens["reviewer"][:-4] + ("AAAA" if not tokens["reviewer"].endswith("AAAA") else "BBBB")
    for path in every_route(report_viewer_server):
        assert get(report_viewer_server, path, token=forged)[0] == 403, path
        assert get(report_viewer_server, path, cookie=forged)[0] == 403, path


def test_a_user_airflow_grants_nothing_is_refused_on_every_route(report_viewer_server, tokens):
    for path in every_route(report_viewer_server):
        status, headers, body = get(report_viewer_server, path, token=tokens["outsider"])
        assert status == 403, (path, status)
        assert headers["content-security-policy"] == CSP and b"<svg" not in body
    # the same user is refused by Airflow's own API: the decision is the auth manager's
    assert get(report_viewer_server, "/api/v2/dags/post_loan_review", token=tokens["outsider"])[0] == 403


@pytest.mark.parametrize("credential", ["bearer", "cookie"])
def test_a_viewer_follows_a_finished_run_to_its_report(report_viewer_server, tokens, credential):
    auth = {"token": tokens["reviewer"]} if credential == "bearer" else {"cookie": tokens["reviewer"]}
    status, headers, _ = get(report_viewer_server, run_path(report_viewer_server.finished_run_id), **auth)
    assert status == 307 and headers["location"] == f"../../reports/{REVIEW_DATE}/live/report.html"
    status, headers, body = get(report_viewer_server, REPORT, **auth)
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert headers["content-security-policy"] == CSP and headers["x-content-type-options"] == "nosniff"
    page = body.decode("utf-8")
    assert REVIEW_DATE in page and "<svg" in page and "<h1" in page
    assert page == (report_viewer_server.report_dir / REVIEW_DATE / "live" / "report.html").read_text(encoding="utf-8")


def test_the_decisions_download_as_csv_and_the_summary_is_json(report_viewer_server, tokens):
    status, headers, body = get(report_viewer_server, f"/post-loan-review/reports/{REVIEW_DATE}/live/decisions.csv",
                                token=tokens["reviewer"])
    assert status == 200 and headers["content-type"] == "text/csv; charset=utf-8"
    assert headers["content-disposition"].startswith("attachment;") and f"decisions-{REVIEW_DATE}-live.csv" in \
        headers["content-disposition"]
    assert body.count(b"\n") > 100  # a row per reviewed account of the 1,000
    status, headers, body = get(report_viewer_server, f"/post-loan-review/reports/{REVIEW_DATE}/live/summary.json",
                                token=tokens["reviewer"])
    assert status == 200 and headers["content-type"] == "application/json"
    summary = json.loads(body)
    assert summary["review_date"] == REVIEW_DATE and summary["run_mode"] == "live"


def test_the_index_lists_the_report_dates_newest_first(report_viewer_server, tokens):
    older = report_viewer_server.report_dir / "2026-11-01" / "dry_run"
    older.mkdir(parents=True, exist_ok=True)
    (older / "summary.json").write_text("{}", encoding="utf-8")
    status, headers, body = get(report_viewer_server, "/post-loan-review/reports/", token=tokens["reviewer"])
    page = body.decode("utf-8")
    assert status == 200 and headers["content-security-policy"] == CSP
    assert f'href="{REVIEW_DATE}/live/report.html"' in page and 'href="2026-11-01/dry_run/summary.json"' in page
    assert page.index(REVIEW_DATE) < page.index("2026-11-01")


def test_a_run_whose_report_is_not_built_gets_a_page_that_says_so(report_viewer_server, tokens):
    status, headers, body = get(report_viewer_server, run_path(report_viewer_server.pending_run_id),
                                token=tokens["reviewer"])
    page = body.decode("utf-8")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert "Report not built yet" in page and report_viewer_server.pending_run_id in page
    assert "Task build_report is not scheduled yet" in page
    assert headers["content-security-policy"] == CSP


def test_an_unknown_run_or_another_dag_gets_a_small_not_found_page(report_viewer_server, tokens):
    status, _, body = get(report_viewer_server, run_path("manual__no_such_run"), token=tokens["reviewer"])
    assert status == 404 and b"has no run manual__no_such_run" in body
    other = f"/post-loan-review/runs/notification_dispatch/{quote(report_viewer_server.finished_run_id, safe='')}"
    status, _, body = get(report_viewer_server, other, token=tokens["reviewer"])
    assert status == 404 and b"Only runs of post_loan_review have review reports" in body


@pytest.fixture(scope="module")
def secret_beside_the_reports(report_viewer_server):
    """A file outside the reports folder, and symlinks inside it that point at it."""
    secret = report_viewer_server.report_dir.parent / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    linked = report_viewer_server.report_dir / "2026-01-01" / "live"
    linked.mkdir(parents=True, exist_ok=True)
    for name in ("report.html", "summary.json"):
        if not (linked / name).is_symlink():
            (linked / name).symlink_to(secret)
    (report_viewer_server.report_dir / "2026-01-02").symlink_to(report_viewer_server.report_dir.parent)
    return secret


@pytest.mark.parametrize("path", [
    "/post-loan-review/reports/../secret.txt",
    "/post-loan-review/reports/../../../../../etc/passwd",
    "/post-loan-review/reports/%2e%2e/secret.txt",
    "/post-loan-review/reports/%2e%2e%2fsecret.txt",
    "/post-loan-review/reports/..%2F..%2F..%2Fetc%2Fpasswd",
    "/post-loan-review/reports/%252e%252e%252fsecret.txt",
    "/post-loan-review/reports//etc/passwd",
    "/post-loan-review/reports/%2Fetc%2Fpasswd",
    f"/post-loan-review/reports/{REVIEW_DATE}/live/..%2F..%2F..%2Fsecret.txt",
    f"/post-loan-review/reports/{REVIEW_DATE}%5C..%5C..%5Csecret.txt",
    "/post-loan-review/reports/2026-01-01/live/report.html",  # a symlink to the secret
    "/post-loan-review/reports/2026-01-01/live/summary.json",
    "/post-loan-review/reports/2026-01-02/secret.txt",  # a date folder linked to the parent
    "/post-loan-review/reports/2026-01-02/reports/2026-11-27/live/report.html",
])
def test_no_path_leads_out_of_the_reports_folder(report_viewer_server, tokens, secret_beside_the_reports, path):
    status, headers, body = get(report_viewer_server, path, token=tokens["admin"])
    assert status in (400, 404), (path, status)
    assert SECRET.encode() not in body and b"root:" not in body
    assert headers["content-security-policy"] == CSP


def test_the_plugin_adds_a_report_tab_to_every_dag_run(report_viewer_server, tokens):
    plugins = report_viewer_server.api("GET", "/api/v2/plugins", token=tokens["admin"])["plugins"]
    viewer = next(p for p in plugins if p["name"] == "post_loan_review_report_viewer")
    views = {view["destination"]: view for view in viewer["external_views"]}
    assert views["dag_run"]["href"] == "post-loan-review/runs/{DAG_ID}/{RUN_ID}"
    assert views["nav"]["href"] == "post-loan-review/reports/"
    assert [app["url_prefix"] for app in viewer["fastapi_apps"]] == ["/post-loan-review"]
