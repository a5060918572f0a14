"""Routes for dashboards: CRUD, sharing, the default dashboards, and running them as the caller."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Response, status

from coterie.auth.dependencies import ApiActor
from coterie.deps import DB, reads_only
from coterie.kit.preconditions import PRECONDITION_RESPONSES, expected_version, set_etag
from coterie.reports.dashboards import service as dashboards
from coterie.reports.dashboards.service import DashboardIn, DashboardOut, DashboardRunOut, FilterBar

router = APIRouter()
DashboardVersion = Annotated[
    int, expected_version("the dashboard's ETag from GET /api/v1/dashboards/{id}")
]


@router.get(
    "/dashboards",
    response_model=list[DashboardOut],
    tags=["dashboards"],
    summary="Dashboards I may open: mine and those shared with me or my company",
)
def list_dashboards(actor: ApiActor, session: DB) -> list[DashboardOut]:
    return [dashboards.to_out(session, actor, d) for d in dashboards.list_visible(session, actor)]


@router.post(
    "/dashboards",
    response_model=DashboardOut,
    status_code=status.HTTP_201_CREATED,
    tags=["dashboards"],
)
def create_dashboard(
    body: DashboardIn, actor: ApiActor, session: DB, response: Response
) -> DashboardOut:
    board = dashboards.create(session, actor, body)
    session.commit()
    set_etag(response, board.version)
    return dashboards.to_out(session, actor, board)


@router.post(
    "/dashboards/defaults/partners/{company_id}/run",
    response_model=DashboardRunOut,
    tags=["dashboards"],
    summary='The "Partnership health" dashboard with one accepted partner (generated, not stored)',
)
@reads_only
def run_partner_health(
    company_id: uuid.UUID,
    actor: ApiActor,
    session: DB,
    region: str | None = Body(default=None, embed=True, max_length=40),
) -> DashboardRunOut:
    return dashboards.partner_health(session, actor, company_id, region)


@router.post(
    "/dashboards/defaults/plans/{plan_id}/run",
    response_model=DashboardRunOut,
    tags=["dashboards"],
    summary='The "Pipeline" dashboard of one plan (generated, not stored)',
)
@reads_only
def run_plan_pipeline(
    plan_id: uuid.UUID,
    actor: ApiActor,
    session: DB,
    region: str | None = Body(default=None, embed=True, max_length=40),
) -> DashboardRunOut:
    return dashboards.plan_pipeline(session, actor, plan_id, region)


@router.get("/dashboards/{dashboard_id}", response_model=DashboardOut, tags=["dashboards"])
def get_dashboard(
    dashboard_id: uuid.UUID, actor: ApiActor, session: DB, response: Response
) -> DashboardOut:
    board = dashboards.get(session, actor, dashboard_id)
    set_etag(response, board.version)
    return dashboards.to_out(session, actor, board)


@router.put(
    "/dashboards/{dashboard_id}",
    response_model=DashboardOut,
    tags=["dashboards"],
    summary="Replace a dashboard (its owner only; If-Match)",
    responses=PRECONDITION_RESPONSES,
)
def update_dashboard(
    dashboard_id: uuid.UUID,
    body: DashboardIn,
    actor: ApiActor,
    session: DB,
    response: Response,
    expected: DashboardVersion,
) -> DashboardOut:
    board = dashboards.update(session, actor, dashboard_id, body, expected)
    session.commit()
    set_etag(response, board.version)
    return dashboards.to_out(session, actor, board)


@router.delete(
    "/dashboards/{dashboard_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["dashboards"],
    summary="Delete a dashboard (its owner only; If-Match)",
    responses=PRECONDITION_RESPONSES,
)
def delete_dashboard(
    dashboard_id: uuid.UUID, actor: ApiActor, session: DB, expected: DashboardVersion
) -> Response:
    dashboards.remove(session, actor, dashboard_id, expected)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/dashboards/{dashboard_id}/run",
    response_model=DashboardRunOut,
    tags=["dashboards"],
    summary="Run every panel as the caller; a filter bar in the body replaces the stored one",
)
@reads_only
def run_dashboard(
    dashboard_id: uuid.UUID, actor: ApiActor, session: DB, body: FilterBar | None = None
) -> DashboardRunOut:
    return dashboards.run(session, actor, dashboard_id, body)
