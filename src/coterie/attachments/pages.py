"""Pages of attachments: the record page's Files panel, uploads from it, downloads, deletes.

The panel (`record_panel`, registered with `coterie.records.page_panels` in `coterie.wiring`)
lists the record's files as `service.list_for` gives them to the viewer (the gate decides), with
an upload form for those who may attach and a confirm dialog to delete. Forms work with htmx
(the panel is swapped in place, a refusal shown inside it) and without (POST-redirect-GET with a
message). `/attachments/{id}/download` is the browser's download, checked like the API's.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from coterie.attachments import committed, downloads, service, sniffing, subjects
from coterie.attachments.subjects import SubjectRef
from coterie.auth.principal import Actor
from coterie.deps import DB, AppSettings
from coterie.fields.kinds import KINDS, Kind, KindInfo
from coterie.kit.pagination import MAX_LIMIT
from coterie.kit.problems import Problem
from coterie.kit.words import file_size
from coterie.models.attachment import Attachment
from coterie.records.page_panels import PanelContent
from coterie.web import csrf
from coterie.web.paths import parse_id
from coterie.web.sessions import PageActor
from coterie.web.templating import is_htmx, redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])

TEMPLATE = "attachments/_panel.html"


def _may_attach(session: Session, actor: Actor, kind: str, record_id: uuid.UUID) -> bool:
    try:
        subjects.attachable(session, actor, SubjectRef(kind, record_id))
    except Problem:
        return False
    return True


def record_panel(
    session: Session, actor: Actor, info: KindInfo, record_id: uuid.UUID
) -> PanelContent:
    """The Files panel of a record the viewer may see: its files and, if allowed, the form."""
    kind = info.kind.value
    rows, _ = service.list_for(
        session, actor.principal, SubjectRef(kind, record_id), limit=MAX_LIMIT
    )
    files = service.present(session, actor, rows)
    return PanelContent(
        TEMPLATE,
        {
            "info": info,
            "record_id": record_id,
            "files": [
                {
                    "file": file,
                    "size": file_size(file.size),
                    "type": sniffing.readable_type(file.content_type),
                }
                for file in files
            ],
            "can_attach": _may_attach(session, actor, kind, record_id),
            "allowed": sniffing.ALLOWED_IN_WORDS,
            "error": None,
            "notice": None,
        },
    )


def _panel(
    request: Request,
    session: Session,
    actor: Actor,
    info: KindInfo,
    record_id: uuid.UUID,
    *,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    content = record_panel(session, actor, info, record_id)
    context: dict[str, Any] = content.context | {"error": error, "notice": notice}
    return render(request, content.template, context, status_code=status_code)


def refusal(problem: Problem) -> str:
    """An upload's refusal as one sentence without "nothing was stored" (the form that shows it
    says what was not done: the panel, the record page's comment form)."""
    detail = problem.detail.removeprefix("file: ").removesuffix(".")
    detail = detail.removesuffix("; nothing was stored")
    return detail[:1].upper() + detail[1:] + "."


def _record_routes(info: KindInfo) -> APIRouter:
    routes = APIRouter()
    kind = info.kind.value
    base = f"/{info.plural}/{{record_id}}"

    @routes.get(base + "/files")
    def files_panel(request: Request, session: DB, actor: PageActor, record_id: str) -> Response:
        rid = parse_id(record_id, kind)
        if not is_htmx(request):
            return redirect(request, f"/{info.plural}/{rid}#files")
        return _panel(request, session, actor, info, rid)

    @routes.post(base + "/attachments")
    async def upload(
        request: Request, session: DB, settings: AppSettings, actor: PageActor, record_id: str
    ) -> Response:
        rid = parse_id(record_id, kind)
        form = await request.form()
        part = form.get("file")
        back = f"/{info.plural}/{rid}#files"

        def run() -> Response:
            try:
                if not isinstance(part, UploadFile) or not part.filename:
                    raise Problem(422, "attachment-missing", "No file", "Choose a file to upload.")
                row = committed.attach(
                    session,
                    actor,
                    SubjectRef(kind, rid),
                    service.Upload(part.filename, part.file),
                    settings,
                )
            except Problem as problem:
                session.rollback()
                if problem.status == 404:
                    raise
                if is_htmx(request):
                    return _panel(
                        request,
                        session,
                        actor,
                        info,
                        rid,
                        error=refusal(problem),
                        status_code=problem.status,
                    )
                return redirect(request, back, refusal(problem), "error")
            message = f"{row.filename} was uploaded and shared with everyone on this record."
            if is_htmx(request):
                return _panel(request, session, actor, info, rid, notice=message)
            return redirect(request, back, message)

        return await run_in_threadpool(run)

    return routes


for _info in KINDS.values():
    router.include_router(_record_routes(_info))


@router.get("/attachments/{attachment_id}/download")
def download(
    session: DB, settings: AppSettings, actor: PageActor, attachment_id: str
) -> StreamingResponse:
    row, chunks = service.open_content(
        session, actor.principal, parse_id(attachment_id, "attachment"), settings
    )
    return downloads.download(row, chunks)


@router.post("/attachments/{attachment_id}/delete")
def delete(
    request: Request, session: DB, settings: AppSettings, actor: PageActor, attachment_id: str
) -> Response:
    wanted = parse_id(attachment_id, "attachment")
    try:
        removed = committed.delete(session, actor, wanted, settings)
    except Problem as problem:
        if problem.status == 404:
            raise
        session.rollback()
        row = service.get(session, actor.principal, wanted)  # seen: only the delete was refused
        return _after_delete(request, session, actor, row, problem=problem)
    return _after_delete(request, session, actor, removed)


def _after_delete(
    request: Request,
    session: Session,
    actor: Actor,
    row: Attachment,
    *,
    problem: Problem | None = None,
) -> Response:
    """The record's Files panel (htmx) or the record page, saying the file was deleted or why
    it was not."""
    info = KINDS[Kind(row.record_kind)]
    if is_htmx(request):
        if problem is not None:
            return _panel(
                request,
                session,
                actor,
                info,
                row.record_id,
                error=refusal(problem),
                status_code=problem.status,
            )
        notice = f"{row.filename} was deleted."
        return _panel(request, session, actor, info, row.record_id, notice=notice)
    back = f"/{info.plural}/{row.record_id}#files"
    if problem is not None:
        return redirect(request, back, refusal(problem), "error")
    return redirect(request, back, f"{row.filename} was deleted.")
