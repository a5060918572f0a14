"""Routes of attachments (JSON; the upload is `multipart/form-data` with one `file` part).

- `POST /{plural}/{id}/attachments`, `GET /{plural}/{id}/attachments`: a record's files.
- `POST /comments/{id}/attachments`, `GET /comments/{id}/attachments`: a comment's files.
- `GET /attachments/{id}`, `GET /attachments/{id}/content`, `DELETE /attachments/{id}`.

Every read answers 404 to a caller who may not see the subject now, exactly as for an id that
does not exist.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from coterie.attachments import committed, downloads, service
from coterie.attachments.schemas import AttachmentOut
from coterie.attachments.subjects import SubjectRef
from coterie.auth.dependencies import ApiActor
from coterie.auth.principal import Actor
from coterie.config import Settings
from coterie.deps import DB, AppSettings
from coterie.fields.kinds import KINDS, KindInfo
from coterie.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from coterie.kit.problems import invalid

router = APIRouter(tags=["attachments"])

# the upload routes, which take a body up to the file limit plus the form: the API's and the
# pages' attachments, and the record page's comment form (which may carry a file); a domain
# above with its own upload route declares its own pattern (`funds.claim_files.UPLOAD_PATH`)
UPLOAD_PATH = re.compile(
    r"(/api/v1)?/[a-z_]+/[0-9A-Fa-f-]{32,36}/attachments|/[a-z_]+/[0-9A-Fa-f-]{32,36}/comments"
)
FORM_ROOM = 1_048_576


def upload_body_limit(settings: Settings) -> int:
    """The largest request body an upload route takes: the file limit and room for the form."""
    return max(settings.attachments_max_bytes + FORM_ROOM, settings.max_request_bytes)


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=500)]

MULTIPART_FILE: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}
UPLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "I may see the subject but not attach files to it"},
    404: {"description": "No such subject visible to me"},
    413: {"description": "The file is over `attachments_max_bytes`"},
    422: {"description": "No file, a type that is not allowed, or the scanner refused it"},
    503: {"description": "The virus scanner could not check the file"},
}
UPLOAD_DESCRIPTION = (
    "One `file` part. Its type is decided by its content (PDF, PNG, JPEG, GIF, WEBP, Word, "
    "Excel, PowerPoint, plain text or CSV), never by its name or declared type. The file is "
    "visible to everyone who may see the subject."
)


async def upload(
    request: Request,
    session: Session,
    actor: Actor,
    settings: Settings,
    subject: SubjectRef,
) -> AttachmentOut:
    """Store the request's one `file` part as a file of `subject` and commit (other domains'
    upload routes call this too: a fund claim's proof)."""
    form = await request.form(max_files=1, max_fields=10)
    part = form.get("file")
    if not isinstance(part, UploadFile):
        raise invalid("file", "send the file as a multipart/form-data part named file")
    upload = service.Upload(part.filename or "", part.file)

    def run() -> AttachmentOut:
        row = committed.attach(session, actor, subject, upload, settings)
        return service.present(session, actor, [row])[0]

    try:
        return await run_in_threadpool(run)
    finally:
        await form.close()


def _record_routes(info: KindInfo) -> APIRouter:
    kind = info.kind.value
    routes = APIRouter(prefix=f"/{info.plural}/{{record_id}}/attachments", tags=["attachments"])

    @routes.post(
        "",
        response_model=AttachmentOut,
        status_code=status.HTTP_201_CREATED,
        summary=f"Attach a file to the {kind} (shared with everyone on it)",
        description=UPLOAD_DESCRIPTION,
        openapi_extra=MULTIPART_FILE,
        responses=UPLOAD_RESPONSES,
    )
    async def upload_to_record(
        record_id: uuid.UUID,
        request: Request,
        actor: ApiActor,
        session: DB,
        settings: AppSettings,
        response: Response,
    ) -> AttachmentOut:
        made = await upload(request, session, actor, settings, SubjectRef(kind, record_id))
        response.headers["Location"] = f"/api/v1/attachments/{made.id}"
        return made

    @routes.get("", response_model=Page[AttachmentOut], summary=f"Files of the {kind}")
    def list_record_files(
        record_id: uuid.UUID,
        actor: ApiActor,
        session: DB,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Page[AttachmentOut]:
        rows, next_cursor = service.list_for(
            session, actor.principal, SubjectRef(kind, record_id), limit=limit, cursor=cursor
        )
        return Page(items=service.present(session, actor, rows), next_cursor=next_cursor)

    return routes


for _info in KINDS.values():
    router.include_router(_record_routes(_info))


@router.post(
    "/comments/{comment_id}/attachments",
    response_model=AttachmentOut,
    status_code=status.HTTP_201_CREATED,
    summary="Attach a file to my comment (seen by whoever may read the comment)",
    description=UPLOAD_DESCRIPTION,
    openapi_extra=MULTIPART_FILE,
    responses=UPLOAD_RESPONSES,
)
async def upload_to_comment(
    comment_id: uuid.UUID,
    request: Request,
    actor: ApiActor,
    session: DB,
    settings: AppSettings,
    response: Response,
) -> AttachmentOut:
    made = await upload(request, session, actor, settings, SubjectRef("comment", comment_id))
    response.headers["Location"] = f"/api/v1/attachments/{made.id}"
    return made


@router.get(
    "/comments/{comment_id}/attachments",
    response_model=Page[AttachmentOut],
    summary="Files of a comment I may read",
)
def list_comment_files(
    comment_id: uuid.UUID,
    actor: ApiActor,
    session: DB,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[AttachmentOut]:
    rows, next_cursor = service.list_for(
        session, actor.principal, SubjectRef("comment", comment_id), limit=limit, cursor=cursor
    )
    return Page(items=service.present(session, actor, rows), next_cursor=next_cursor)


@router.get(
    "/attachments/{attachment_id}",
    response_model=AttachmentOut,
    summary="An attachment's metadata",
)
def get_attachment(attachment_id: uuid.UUID, actor: ApiActor, session: DB) -> AttachmentOut:
    row = service.get(session, actor.principal, attachment_id)
    return service.present(session, actor, [row])[0]


@router.get(
    "/attachments/{attachment_id}/content",
    summary="Download an attachment (always as a download, never shown inline)",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The file"},
        404: {"description": "No such attachment visible to me"},
        410: {"description": "The store no longer has the content"},
    },
)
def download_attachment(
    attachment_id: uuid.UUID, actor: ApiActor, session: DB, settings: AppSettings
) -> StreamingResponse:
    row, chunks = service.open_content(session, actor.principal, attachment_id, settings)
    return downloads.download(row, chunks)


@router.delete(
    "/attachments/{attachment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an attachment (its uploader's company or the record's owner)",
    responses={403: {"description": "Not the uploader's company nor the record's owner"}},
)
def delete_attachment(
    attachment_id: uuid.UUID, actor: ApiActor, session: DB, settings: AppSettings
) -> Response:
    committed.delete(session, actor, attachment_id, settings)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
