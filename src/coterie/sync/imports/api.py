"""Spreadsheet imports over the API: upload a CSV or XLSX file as the request body, map its
columns, check it (dry run), import it, and fetch the refused rows."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status

from coterie.auth.dependencies import ApiActor
from coterie.deps import DB, AppSettings
from coterie.models.imports import ImportMode, ImportStatus
from coterie.sync.imports import reader, service
from coterie.sync.imports.schemas import ImportKind, ImportOut, MappingIn

router = APIRouter(tags=["imports"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such import of mine"}}
CSV_OR_XLSX = {
    "text/csv": {"schema": {"type": "string"}},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
        "schema": {"type": "string", "format": "binary"}
    },
}


@router.post(
    "/imports",
    response_model=ImportOut,
    status_code=status.HTTP_201_CREATED,
    summary="Upload a spreadsheet of accounts, leads or opportunities to import",
    description="The request body is the file itself (CSV: UTF-8 with or without BOM, or "
    "Windows-1252, `;` or `,` delimited; XLSX: the first sheet). The first row names the "
    "columns; the mapping is guessed from those names. 413 over the size or row cap.",
    openapi_extra={"requestBody": {"required": True, "content": CSV_OR_XLSX}},
    responses={413: {"description": "The file is over the size or row cap"}},
)
async def upload(
    request: Request,
    actor: ApiActor,
    session: DB,
    settings: AppSettings,
    response: Response,
    kind: Annotated[ImportKind, Query(description="What the rows are")],
    filename: Annotated[str, Query(max_length=255)] = "upload.csv",
) -> ImportOut:
    # no body parameter (the body is a file, not JSON): read here, in the event loop, then the
    # use case runs as in any route
    content = bytearray()
    async for chunk in request.stream():
        content.extend(chunk)
        if len(content) > settings.import_max_bytes:
            raise reader.too_large(settings.import_max_bytes)
    row = service.upload(session, settings, actor, kind, filename, bytes(content))
    session.commit()
    response.headers["Location"] = f"/api/v1/imports/{row.id}"
    return service.to_out(session, actor, row)


@router.get("/imports", response_model=list[ImportOut], summary="My latest imports")
def list_imports(
    actor: ApiActor, session: DB, kind: Annotated[ImportKind | None, Query()] = None
) -> list[ImportOut]:
    return [service.to_out(session, actor, r) for r in service.list_for(session, actor, kind)]


@router.get(
    "/imports/{import_id}",
    response_model=ImportOut,
    summary="One import: mapping, preview, progress and the row-by-row outcome",
    responses=NOT_FOUND,
)
def get_import(import_id: uuid.UUID, actor: ApiActor, session: DB) -> ImportOut:
    return service.to_out(session, actor, service.get(session, actor, import_id))


@router.put(
    "/imports/{import_id}/mapping",
    response_model=ImportOut,
    summary="Which field each column fills (null: ignored)",
    responses={**NOT_FOUND, 409: {"description": "The import is running or done"}},
)
def put_mapping(import_id: uuid.UUID, body: MappingIn, actor: ApiActor, session: DB) -> ImportOut:
    row = service.set_mapping(session, actor, import_id, body.columns)
    session.commit()
    return service.to_out(session, actor, row)


def _start(
    import_id: uuid.UUID,
    mode: ImportMode,
    actor: ApiActor,
    session: DB,
    settings: AppSettings,
    response: Response,
) -> ImportOut:
    row = service.start(session, settings, actor, import_id, mode)
    session.commit()
    session.refresh(row)  # a run done at the commit (immediate jobs) changed it
    if row.status in (ImportStatus.QUEUED.value, ImportStatus.RUNNING.value):
        response.status_code = status.HTTP_202_ACCEPTED
    return service.to_out(session, actor, row)


@router.post(
    "/imports/{import_id}/dry-run",
    response_model=ImportOut,
    summary="Check the import: what would be created, updated, left alone or refused",
    description="Writes nothing. Small files are checked at once (200); large ones in the "
    "background (202): follow the import's progress.",
    responses={**NOT_FOUND, 202: {"description": "Queued"}, 409: {"description": "Busy"}},
)
def dry_run(
    import_id: uuid.UUID, actor: ApiActor, session: DB, settings: AppSettings, response: Response
) -> ImportOut:
    return _start(import_id, ImportMode.DRY_RUN, actor, session, settings, response)


@router.post(
    "/imports/{import_id}/run",
    response_model=ImportOut,
    summary="Import the rows, as me: create, update my space, or refuse row by row",
    responses={**NOT_FOUND, 202: {"description": "Queued"}, 409: {"description": "Busy"}},
)
def run(
    import_id: uuid.UUID, actor: ApiActor, session: DB, settings: AppSettings, response: Response
) -> ImportOut:
    return _start(import_id, ImportMode.IMPORT, actor, session, settings, response)


@router.get(
    "/imports/{import_id}/refused.csv",
    summary="The refused rows of the last dry run or run, with the reasons, as CSV",
    responses={**NOT_FOUND, 200: {"content": {"text/csv": {}}, "description": "CSV"}},
)
def refused_rows(import_id: uuid.UUID, actor: ApiActor, session: DB) -> Response:
    row = service.get(session, actor, import_id)
    return Response(
        service.refused_csv(row),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{service.refused_name(row)}"',
            "Cache-Control": "no-store",
        },
    )
