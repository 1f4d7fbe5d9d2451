"""The report viewer: the review reports served by Airflow's API server, behind Airflow's own login
and authorization, and a "Review report" tab on every run of post_loan_review.

UI wiring only; which files may be served and which report a run has is decided in
post_loan_review.report_files (no Airflow there). Routes, security and how the tab authenticates:
plugins/README.md.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import requires_access_dag
from airflow.plugins_manager import AirflowPlugin
from post_loan_review import report_files
from post_loan_review.config import settings

DAG_ID = "post_loan_review"
URL_PREFIX = "/post-loan-review"
# reports are self-contained HTML with inline CSS and SVG and no script: nothing else may load,
# and only the Airflow UI itself (same origin) may frame them
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # customer-level data: never kept by shared caches; a re-run rewrites the same file
    "Cache-Control": "private, no-cache",
}

# Every route needs a user Airflow authenticates (the UI's `_token` cookie or `Authorization:
# Bearer`) who may read the runs of post_loan_review; the auth manager decides.
report_viewer_app = FastAPI(
    title="post_loan_review report viewer",
    dependencies=[Depends(requires_access_dag("GET", DagAccessEntity.RUN, param_dag_id=DAG_ID))],
    docs_url=None, redoc_url=None, openapi_url=None,  # these would skip the dependency above
)


@report_viewer_app.middleware("http")
async def add_security_headers(request: Request, call_next):
    response = await call_next(request)  # also the 401/403/404 answers
    response.headers.update(SECURITY_HEADERS)
    return response


@report_viewer_app.get("/reports/", response_class=HTMLResponse)
def report_index() -> HTMLResponse:
    return HTMLResponse(report_files.index_page(report_files.list_reports(settings().report_dir)))


@report_viewer_app.get("/reports/{relative_path:path}")
def report_file(relative_path: str) -> Response:
    path = report_files.resolve_report_file(settings().report_dir, relative_path)
    if path is None:
        return HTMLResponse(report_files.message_page("Not found", "There is no such review report file."),
                            status_code=404)
    media_type = report_files.MEDIA_TYPES[path.name]
    if path.name == report_files.DECISIONS_CSV:
        parts = relative_path.split("/")
        return FileResponse(path, media_type=media_type, filename=f"decisions-{parts[0]}-{parts[1]}.csv")
    return FileResponse(path, media_type=media_type)


@report_viewer_app.get("/runs/{dag_id}/{run_id}")
def run_report(dag_id: str, run_id: str, session: SessionDep) -> Response:
    from sqlalchemy import select

    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel

    index_href = "../../reports/"  # from /runs/<dag>/<run> to /reports/
    if dag_id != DAG_ID:
        return HTMLResponse(report_files.message_page(
            "No review report", f"Only runs of {DAG_ID} have review reports; {dag_id} has none."), status_code=404)
    if session.scalar(select(DagRun.id).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)) is None:
        return HTMLResponse(report_files.message_page(
            "No such run", f"{DAG_ID} has no run {run_id}.", index_href=index_href), status_code=404)
    rows = session.execute(select(XComModel.task_id, XComModel.value).where(
        XComModel.dag_id == dag_id, XComModel.run_id == run_id, XComModel.map_index == -1,
        XComModel.key == "return_value", XComModel.task_id.in_(("build_report", "resolve_review_date"))))
    values = {row.task_id: XComModel.deserialize_value(row) for row in rows}
    report = report_files.choose_run_report(settings().report_dir, values.get("build_report"),
                                            values.get("resolve_review_date"))
    if report.location is not None:
        return RedirectResponse(f"../../reports/{report.location}", status_code=307)
    state = session.scalar(select(TaskInstance.state).where(
        TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id, TaskInstance.task_id == "build_report",
        TaskInstance.map_index == -1))
    about = (f"Review date {report.review_date}, {report.run_mode.replace('_', ' ')}."
             if report.review_date and report.run_mode else "The review date is not resolved yet.")
    return HTMLResponse(report_files.message_page(
        "Report not built yet", f"Run {run_id}: {report.problem}.",
        f"Task build_report is {getattr(state, 'value', state) or 'not scheduled yet'}. {about}", index_href=index_href))


class ReportViewerPlugin(AirflowPlugin):
    name = "post_loan_review_report_viewer"
    fastapi_apps = [{"app": report_viewer_app, "url_prefix": URL_PREFIX, "name": "Review reports"}]
    # hrefs without a leading slash: the UI resolves them against its base URL (a sub-path too)
    external_views = [
        {"name": "Review report", "href": f"{URL_PREFIX.lstrip('/')}/runs/{{DAG_ID}}/{{RUN_ID}}",
         "destination": "dag_run", "url_route": "review-report"},
        {"name": "Review reports", "href": f"{URL_PREFIX.lstrip('/')}/reports/", "destination": "nav",
         "category": "browse", "url_route": "review-reports"},
    ]
