"""Company exports over the API: ask for one, follow it, download it (admins)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import FileResponse

from coterie.auth.dependencies import ApiActor
from coterie.company_export import service
from coterie.company_export.schemas import CompanyExportOut
from coterie.deps import DB, AppSettings
from coterie.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page

router = APIRouter(tags=["company exports"])

PROBLEMS: dict[int | str, dict[str, Any]] = {
    403: {"description": "Not an admin of the company"},
}


@router.post(
    "/company-exports",
    response_model=CompanyExportOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Export all of my company's data as a zip of JSON and CSV (admins)",
    description="Built in the background; follow it at the Location. The requester gets an "
    "e-mail with the download link when it is done. One at a time per company: 409 "
    "(/problems/export-in-progress, with `export_id`) while another is queued or running.",
    responses={**PROBLEMS, 409: {"description": "Another export is queued or running"}},
)
def create_export(
    actor: ApiActor, session: DB, settings: AppSettings, response: Response
) -> CompanyExportOut:
    row = service.request(session, actor)
    session.commit()  # the build is asked for once this commits
    session.refresh(row)  # a build that ran at the commit (immediate mode) changed it
    response.headers["Location"] = f"/api/v1/company-exports/{row.id}"
    return service.to_out(session, settings, row)


@router.get(
    "/company-exports",
    response_model=Page[CompanyExportOut],
    summary="My company's exports, newest first (admins)",
    responses=PROBLEMS,
)
def list_exports(
    actor: ApiActor,
    session: DB,
    settings: AppSettings,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Page[CompanyExportOut]:
    rows, next_cursor = service.list_for(session, actor, limit=limit, cursor=cursor)
    return Page(items=[service.to_out(session, settings, r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/company-exports/{export_id}",
    response_model=CompanyExportOut,
    summary="One export: status, progress, and the download link once done (admins)",
    responses={**PROBLEMS, 404: {"description": "No such export of my company"}},
)
def get_export(
    export_id: uuid.UUID, actor: ApiActor, session: DB, settings: AppSettings
) -> CompanyExportOut:
    return service.to_out(session, settings, service.get(session, actor, export_id))


@router.get(
    "/company-exports/{export_id}/download",
    response_class=FileResponse,
    summary="Download a finished export: its signed link (`download_url`), as an admin",
    responses={
        **PROBLEMS,
        200: {"content": {"application/zip": {}}, "description": "The zip"},
        400: {"description": "The link's token is not this export's"},
        404: {"description": "No such export of my company"},
        410: {"description": "The export expired (/problems/export-expired)"},
    },
)
def download_export(
    export_id: uuid.UUID,
    actor: ApiActor,
    session: DB,
    settings: AppSettings,
    token: Annotated[str, Query(max_length=1000, description="From `download_url`")],
) -> FileResponse:
    path, name = service.file_to_download(session, settings, actor, export_id, token)
    session.commit()
    return FileResponse(
        path,
        media_type="application/zip",
        filename=name,
        headers={"Cache-Control": "no-store"},
    )
