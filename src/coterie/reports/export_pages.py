"""Download links of the report pages (session cookie): report CSV/XLSX and the QBR deck.

The same files as the API (`coterie.reports.exports_api`), computed as the signed-in user.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from coterie.deps import DB
from coterie.network.pages import parse_id
from coterie.reports import dashboards
from coterie.reports.exports_api import deck_response, export_saved
from coterie.web import csrf
from coterie.web.sessions import PageActor

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])


@router.get("/reports/{report_id}/export")
def export_report(request: Request, session: DB, actor: PageActor, report_id: str) -> Response:
    fmt = "xlsx" if request.query_params.get("format") == "xlsx" else "csv"
    return export_saved(session, actor, parse_id(report_id, "report"), fmt, False)


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
