"""Routes for saved reports: CRUD, sharing, and running them as the caller."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Response, status

from coterie.auth.dependencies import ApiActor
from coterie.deps import DB, reads_only
from coterie.kit.preconditions import PRECONDITION_RESPONSES, expected_version, set_etag
from coterie.reports.saved import service as saved
from coterie.reports.saved.service import SavedReportIn, SavedReportOut
from coterie.reports.schemas import ReportOut

router = APIRouter()
ReportVersion = Annotated[int, expected_version("the report's ETag from GET /api/v1/reports/{id}")]


@router.get(
    "/reports",
    response_model=list[SavedReportOut],
    tags=["reports"],
    summary="Saved reports I may open: mine and those shared with me or my company",
)
def list_reports(actor: ApiActor, session: DB) -> list[SavedReportOut]:
    return [saved.to_out(session, actor, r) for r in saved.list_visible(session, actor)]


@router.post(
    "/reports",
    response_model=SavedReportOut,
    status_code=status.HTTP_201_CREATED,
    tags=["reports"],
    summary="Save a report definition, its chart type and whom it is shared with",
)
def create_report(
    body: SavedReportIn, actor: ApiActor, session: DB, response: Response
) -> SavedReportOut:
    report = saved.create(session, actor, body)
    session.commit()
    set_etag(response, report.version)
    return saved.to_out(session, actor, report)


@router.get("/reports/{report_id}", response_model=SavedReportOut, tags=["reports"])
def get_report(
    report_id: uuid.UUID, actor: ApiActor, session: DB, response: Response
) -> SavedReportOut:
    report = saved.get(session, actor, report_id)
    set_etag(response, report.version)
    return saved.to_out(session, actor, report)


@router.put(
    "/reports/{report_id}",
    response_model=SavedReportOut,
    tags=["reports"],
    summary="Replace a saved report (its owner only; If-Match: the version read)",
    responses=PRECONDITION_RESPONSES,
)
def update_report(
    report_id: uuid.UUID,
    body: SavedReportIn,
    actor: ApiActor,
    session: DB,
    response: Response,
    expected: ReportVersion,
) -> SavedReportOut:
    report = saved.update(session, actor, report_id, body, expected)
    session.commit()
    set_etag(response, report.version)
    return saved.to_out(session, actor, report)


@router.delete(
    "/reports/{report_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["reports"],
    summary="Delete a saved report (its owner only; If-Match)",
    responses=PRECONDITION_RESPONSES,
)
def delete_report(
    report_id: uuid.UUID, actor: ApiActor, session: DB, expected: ReportVersion
) -> Response:
    saved.remove(session, actor, report_id, expected)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/reports/{report_id}/run",
    response_model=ReportOut,
    tags=["reports"],
    summary="Run a saved report as the caller (never with its author's rights)",
)
@reads_only
def run_report(report_id: uuid.UUID, actor: ApiActor, session: DB) -> ReportOut:
    report = saved.get(session, actor, report_id)
    return saved.run(session, actor, report)
