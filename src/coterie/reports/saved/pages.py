"""Report pages: saved reports, the report builder with a live preview, the builder's filter rows.

Charts are drawn in the browser by Chart.js (`/static/vendor/chart.umd.min.js`) from JSON in a
`data-chart` attribute (the CSP forbids inline scripts; `static/reports.js` draws them), each
with a "Download PNG" button and a table of the same numbers under it. Every number is computed
by the report engine *as the signed-in user* (saved reports and dashboards shared by someone
else included), so the page shows only what the viewer may see, without its own private values
while "hide private fields" is on.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.db import utcnow
from coterie.deps import DB, reads_only
from coterie.kit.problems import Problem
from coterie.network.companies import names as company_names
from coterie.reports import currency_note, engine, filter_rows
from coterie.reports.dashboards import service as dashboards
from coterie.reports.presenting import CHART_LABELS, Presented, present
from coterie.reports.saved import builder
from coterie.reports.saved import service as saved
from coterie.reports.saved.service import SavedReportIn, SharedWith
from coterie.reports.schemas import ReportIn, ReportOut
from coterie.web import csrf
from coterie.web.forms import FormInput, is_stale
from coterie.web.paths import parse_id
from coterie.web.sessions import PageActor
from coterie.web.submit import flash_back, flash_done, raise_on, submit
from coterie.web.templating import redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])


def _run_as_viewer(
    session: Session, actor: Actor, definition: ReportIn
) -> tuple[ReportOut | None, str | None]:
    try:
        return engine.run(session, actor, definition), None
    except Problem as problem:
        if problem.status in (400, 422):
            return None, problem.detail
        raise


def builder_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    report: saved.SavedReportOut | None = None,
    result: Presented | None = None,
    run_error: str | None = None,
    status_code: int = 200,
) -> Response:
    kind = str(values.get("kind") or "opportunity")
    editable = report is None or report.can_edit
    fields = builder.filter_fields(session, actor, kind) if editable else []
    return render(
        request,
        "reports/builder.html",
        {
            "nav": "reports",
            "values": values,
            "errors": errors or {},
            "choices": builder.choices(session, actor),
            "filter_fields": fields,
            "quarters": builder.quarter_choices(utcnow().date(), str(values.get("quarter") or "")),
            "known": filter_rows.by_name(fields),
            "rows": values.get("filter_rows") or filter_rows.Rows(),
            "report": report,
            "result": result,
            "run_error": run_error,
            "currency_note": _note(session, actor, result),
        },
        status_code=status_code,
    )


def _note(
    session: Session, actor: Actor, result: Presented | None
) -> currency_note.CurrencyNote | None:
    if result is None or not result.has_money:
        return None
    return currency_note.note(session, actor.company_id, result.currency)


# --- pages -------------------------------------------------------------------------------------


def index_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    reports = [saved.to_out(session, actor, r) for r in saved.list_visible(session, actor)]
    boards = [dashboards.to_out(session, actor, d) for d in dashboards.list_visible(session, actor)]
    return render(
        request,
        "reports/index.html",
        {
            "nav": "reports",
            "mine": [r for r in reports if r.company_id == actor.company_id],
            "shared": [r for r in reports if r.company_id != actor.company_id],
            "dashboards": boards,
            "choices": builder.choices(session, actor),
            "addable": addable_reports(session, actor),
            "chart_labels": CHART_LABELS,
            "errors": errors or {},
            "values": values or {},
        },
        status_code=status_code,
    )


@router.get("/reports")
def reports_index(request: Request, session: DB, actor: PageActor) -> Response:
    return index_page(request, session, actor)


@router.get("/reports/new")
def new_report(request: Request, session: DB, actor: PageActor) -> Response:
    blank = SavedReportIn(name="New", definition=ReportIn(group_by=["stage"]), chart_type="bar")
    return builder_page(request, session, actor, values=builder.values_of(blank) | {"name": ""})


@router.get("/reports/filter-row")
@reads_only
def filter_row(request: Request, session: DB, actor: PageActor) -> Response:
    """One filter row for the builder (htmx: "Add filter", or a row whose field or condition
    changed): the field's conditions and the value input that fits them."""
    query = request.query_params
    kind = query.get("kind") or "opportunity"
    fields = builder.filter_fields(session, actor, kind)
    known = filter_rows.by_name(fields)
    name = query.get("field") or ""
    spec = known.get(name)
    op = query.get("op") or ""
    if spec is None:
        name, op = "", ""
    elif op not in dict(spec.operators):
        op = spec.operators[0][0]
    values = [v for v in query.getlist("value") if len(v) <= 1000][: filter_rows.MAX_ROWS * 20]
    row = filter_rows.FilterRow(
        filter_rows.parse_index(query.get("index") or "0"), name, op, values
    )
    return render(
        request,
        "reports/_filter_row.html",
        {"row": row, "position": None, "filter_fields": fields, "known": known},
    )


@router.post("/reports/preview")
@reads_only
def preview(request: Request, session: DB, actor: PageActor, form: FormInput) -> Response:
    """The htmx preview: run what the builder describes, as the signed-in user."""
    built = builder.read(session, actor, form)
    out = builder.check(session, actor, built)
    result: Presented | None = None
    if out is not None and built.data is not None:
        result = present(session, actor, built.data.name, built.data.chart_type, out)
    return render(
        request,
        "reports/_result.html",
        {
            "result": result,
            "run_error": builder.first_error(built) if out is None else None,
            "chart_id": "preview",
            "currency_note": _note(session, actor, result),
        },
    )


@router.post("/reports/new")
def create_report(request: Request, session: DB, actor: PageActor, form: FormInput) -> Response:
    built = builder.read(session, actor, form)
    builder.check(session, actor, built)
    data = built.data
    if data is None or built.errors:
        return builder_page(
            request, session, actor, values=built.values, errors=built.errors, status_code=422
        )
    return submit(
        session,
        lambda: saved.create(session, actor, data),
        done=lambda report: redirect(
            request, f"/reports/{report.id}", f"Report “{report.name}” saved."
        ),
        refused=lambda problem: builder_page(
            request, session, actor, values=built.values,
            errors=builder.problem_errors(problem), status_code=422,
        ),
    )  # fmt: skip


@router.get("/reports/{report_id}")
def report_page(request: Request, session: DB, actor: PageActor, report_id: str) -> Response:
    report = saved.get(session, actor, parse_id(report_id, "report"))
    out = saved.to_out(session, actor, report)
    result, run_error = _run_as_viewer(session, actor, out.definition)
    presented = present(session, actor, out.name, out.chart_type, result) if result else None
    values = builder.values_of(
        SavedReportIn(
            name=out.name,
            definition=out.definition,
            chart_type=out.chart_type,
            shared_with=out.shared_with or SharedWith(),
        )
    )
    return builder_page(
        request, session, actor, values=values, report=out, result=presented, run_error=run_error
    )


@router.post("/reports/{report_id}")
def update_report(
    request: Request, session: DB, actor: PageActor, form: FormInput, report_id: str
) -> Response:
    report_uuid = parse_id(report_id, "report")
    out = saved.to_out(session, actor, saved.get(session, actor, report_uuid))
    built = builder.read(session, actor, form)
    builder.check(session, actor, built)
    data = built.data
    if data is None or built.errors:
        return builder_page(
            request, session, actor, values=built.values, errors=built.errors, report=out,
            status_code=422,
        )  # fmt: skip

    def refused(problem: Problem) -> Response:
        errors = builder.problem_errors(problem)
        if is_stale(problem):
            errors = {
                "form": "Someone changed this report since you opened it, so nothing was "
                "saved. Save again to replace their version with yours, or reload the page "
                "to see theirs."
            }
        return builder_page(
            request, session, actor, values=built.values, errors=errors, report=out,
            status_code=problem.status if problem.status in (403, 412, 428) else 422,
        )  # fmt: skip

    return submit(
        session,
        lambda: saved.update(session, actor, report_uuid, data, form.version()),
        done=lambda _: redirect(request, f"/reports/{report_uuid}", "Report saved."),
        refused=refused,
    )


@router.post("/reports/{report_id}/delete")
def delete_report(
    request: Request, session: DB, actor: PageActor, form: FormInput, report_id: str
) -> Response:
    report_uuid = parse_id(report_id, "report")
    return submit(
        session,
        lambda: saved.remove(session, actor, report_uuid, form.version()),
        done=flash_done(request, "/reports", "Report deleted."),
        refused=flash_back(request, f"/reports/{report_uuid}"),
        passes=raise_on(403, 404),
    )


# --- the dashboards on the index -------------------------------------------------------------


def addable_reports(session: Session, actor: Actor) -> list[tuple[str, str]]:
    """Saved reports the actor may put on a dashboard: mine first, then partners' shared ones."""
    reports = saved.list_visible(session, actor)
    reports.sort(key=lambda r: r.company_id != actor.company_id)  # stable: by name within
    shared = {r.company_id for r in reports if r.company_id != actor.company_id}
    owners = company_names(session, shared) if shared else {}
    return [
        (
            str(r.id),
            r.name
            if r.company_id == actor.company_id
            else f"{r.name} (shared by {owners.get(r.company_id, 'a partner')})",
        )
        for r in reports
    ]
