"""Report exports (CSV, XLSX) and the QBR deck (PPTX), always computed as the caller.

A saved report or dashboard shared by someone else is run with the *caller's* rights, exactly
like `/run`: a partner exporting a shared report gets its own numbers, never the author's. One
the caller may not open answers 404. `hide_private=true` (or the caller's "hide private fields"
preference) leaves the caller's own private values out of every number.
"""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from coterie.auth.dependencies import ApiActor
from coterie.auth.principal import Actor
from coterie.deps import DB, reads_only
from coterie.reports import engine
from coterie.reports.dashboards import service as dashboards
from coterie.reports.dashboards.service import DashboardRunOut
from coterie.reports.exports import deck
from coterie.reports.exports import spreadsheets as exports
from coterie.reports.saved import service as saved
from coterie.reports.schemas import ReportIn

router = APIRouter()

Format = Literal["csv", "xlsx"]
FormatQuery = Query(default="csv", description="csv or xlsx")
HidePrivate = Query(default=False, description="Leave my own private values out")


def _download(content: bytes, media_type: str, name: str) -> Response:
    return Response(
        content=content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


def export_definition(
    session: Session, actor: Actor, definition: ReportIn, name: str, fmt: str, hide_private: bool
) -> Response:
    """Run the definition as the actor and return the file."""
    if hide_private:
        definition = definition.model_copy(update={"hide_private": True})
    result = engine.run(session, actor, definition)
    data = exports.table(session, actor, result)
    if fmt == "xlsx":
        return _download(
            exports.to_xlsx(data, name), exports.XLSX_TYPE, exports.filename(name, "xlsx")
        )
    return _download(exports.to_csv(data), exports.CSV_TYPE, exports.filename(name, "csv"))


def export_saved(
    session: Session, actor: Actor, report_id: uuid.UUID, fmt: str, hide_private: bool
) -> Response:
    report = saved.get(session, actor, report_id)  # 404 when the caller may not open it
    definition = ReportIn.model_validate(report.definition)
    return export_definition(session, actor, definition, report.name, fmt, hide_private)


def deck_response(session: Session, actor: Actor, run: DashboardRunOut) -> Response:
    content = deck.build(session, actor, run)
    return _download(content, deck.PPTX_TYPE, exports.filename(run.name, "pptx"))


@router.get(
    "/reports/{report_id}/export",
    tags=["reports"],
    summary="A saved report as CSV or XLSX, run as the caller",
    response_class=Response,
)
def export_report(
    report_id: uuid.UUID,
    actor: ApiActor,
    session: DB,
    format: Format = FormatQuery,
    hide_private: bool = HidePrivate,
) -> Response:
    return export_saved(session, actor, report_id, format, hide_private)


@router.post(
    "/reports/run/export",
    tags=["reports"],
    summary="A report definition run as the caller, as CSV or XLSX",
    response_class=Response,
)
@reads_only
def export_run(
    body: ReportIn, actor: ApiActor, session: DB, format: Format = FormatQuery
) -> Response:
    return export_definition(session, actor, body, "report", format, False)


@router.get(
    "/dashboards/defaults/partners/{company_id}/deck.pptx",
    tags=["dashboards"],
    summary='The QBR deck of the "Partnership health" dashboard with one partner',
    response_class=Response,
)
def partner_health_deck(company_id: uuid.UUID, actor: ApiActor, session: DB) -> Response:
    return deck_response(session, actor, dashboards.partner_health(session, actor, company_id))


@router.get(
    "/dashboards/defaults/plans/{plan_id}/deck.pptx",
    tags=["dashboards"],
    summary='The QBR deck of the "Pipeline" dashboard of one plan',
    response_class=Response,
)
def plan_pipeline_deck(plan_id: uuid.UUID, actor: ApiActor, session: DB) -> Response:
    return deck_response(session, actor, dashboards.plan_pipeline(session, actor, plan_id))


@router.get(
    "/dashboards/{dashboard_id}/deck.pptx",
    tags=["dashboards"],
    summary="The QBR deck (PPTX, native charts) of a dashboard, every panel run as the caller",
    response_class=Response,
)
def dashboard_deck(dashboard_id: uuid.UUID, actor: ApiActor, session: DB) -> Response:
    return deck_response(session, actor, dashboards.run(session, actor, dashboard_id, None))
