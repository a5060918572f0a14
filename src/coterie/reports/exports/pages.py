"""Download links of the report pages (session cookie): report CSV/XLSX and the QBR deck.

The same files as the API (`coterie.reports.exports.api`), computed as the signed-in user. The
builder's "Download CSV/Excel" posts its form to `/reports/preview/export`: the report as set up
there, not saved, run through the same engine path as a saved report's export; a form that
does not describe a report, or one the user may not run, shows the builder again with why.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request, Response

from coterie.deps import DB, reads_only
from coterie.kit.problems import Problem
from coterie.reports import filter_rows
from coterie.reports.dashboards import service as dashboards
from coterie.reports.exports.api import deck_response, export_definition, export_saved
from coterie.reports.saved import builder, pages
from coterie.reports.saved import service as saved
from coterie.web import csrf
from coterie.web.forms import FormInput
from coterie.web.paths import parse_id
from coterie.web.sessions import PageActor

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])


@router.get("/reports/{report_id}/export")
def export_report(request: Request, session: DB, actor: PageActor, report_id: str) -> Response:
    fmt = "xlsx" if request.query_params.get("format") == "xlsx" else "csv"
    return export_saved(session, actor, parse_id(report_id, "report"), fmt, False)


@router.post("/reports/preview/export")
@reads_only
def export_preview(request: Request, session: DB, actor: PageActor, form: FormInput) -> Response:
    """The builder's report as CSV or XLSX without saving it, run as the signed-in user."""
    fmt = "xlsx" if form.text("export") == "xlsx" else "csv"
    built = builder.read(session, actor, form)
    report = None
    try:  # the saved report being edited, to show its page again on an error
        report_id = uuid.UUID(form.text("report_id"))
        report = saved.to_out(session, actor, saved.get(session, actor, report_id))
    except (ValueError, Problem):
        report = None
    data = built.data
    if data is None:
        return pages.builder_page(
            request, session, actor, values=built.values, errors=built.errors, report=report,
            status_code=422,
        )  # fmt: skip
    name = data.name if form.text("name") else "report"
    try:
        return export_definition(session, actor, data.definition, name, fmt, False)
    except Problem as problem:
        if problem.status not in (400, 422):
            raise
        if filter_rows.refusal(problem, built.row_of, built.rows):  # next to its filter row
            return pages.builder_page(
                request, session, actor, values=built.values, errors=built.rows.errors(),
                report=report, status_code=422,
            )  # fmt: skip
        return pages.builder_page(
            request, session, actor, values=built.values, report=report, run_error=problem.detail,
            status_code=422,
        )  # fmt: skip


@router.get("/dashboards/{dashboard_id}/deck.pptx")
def dashboard_deck(request: Request, session: DB, actor: PageActor, dashboard_id: str) -> Response:
    board = parse_id(dashboard_id, "dashboard")
    return deck_response(session, actor, dashboards.run(session, actor, board, None))


@router.get("/reports/defaults/partners/{company_id}/deck.pptx")
def partner_health_deck(
    request: Request, session: DB, actor: PageActor, company_id: str
) -> Response:
    partner = parse_id(company_id, "partner")
    return deck_response(session, actor, dashboards.partner_health(session, actor, partner))


@router.get("/reports/defaults/plans/{plan_id}/deck.pptx")
def plan_pipeline_deck(request: Request, session: DB, actor: PageActor, plan_id: str) -> Response:
    plan = parse_id(plan_id, "plan")
    return deck_response(session, actor, dashboards.plan_pipeline(session, actor, plan))
