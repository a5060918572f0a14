"""The "Data export" settings tab (admins): ask for an export, watch its progress (the list
refreshes itself with htmx while one is being built), download it until it expires."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.company_export import links, service
from coterie.config import Settings
from coterie.deps import DB, AppSettings
from coterie.kit.words import file_size
from coterie.models import CompanyExport, User
from coterie.models.company_export import UNFINISHED
from coterie.web import csrf
from coterie.web.paths import parse_id
from coterie.web.sessions import PageActor
from coterie.web.submit import flash_back, problem_detail, submit
from coterie.web.templating import redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])

PAGE = "/settings/data-export"
SHOWN = 20
POLL_SECONDS = 2


def _rows(session: Session, settings: Settings, actor: Actor) -> list[dict[str, object]]:
    exports, _ = service.list_for(session, actor, limit=SHOWN, cursor=None)
    names = {
        user.id: user.name
        for user in (
            session.get(User, e.requested_by_user_id) for e in exports if e.requested_by_user_id
        )
        if user is not None
    }
    return [_row(settings, export, names) for export in exports]


def _row(
    settings: Settings, export: CompanyExport, names: dict[uuid.UUID, str]
) -> dict[str, object]:
    downloadable = service.is_downloadable(export)
    return {
        "export": export,
        "requested_by": names.get(export.requested_by_user_id, "A former user")
        if export.requested_by_user_id
        else "A former user",
        "progress": export.progress,
        "size": "" if export.size_bytes is None else file_size(export.size_bytes),
        "download_url": links.page_url(settings, export.id) if downloadable else None,
        "unfinished": export.status in UNFINISHED,
    }


def _context(session: Session, settings: Settings, actor: Actor) -> dict[str, object]:
    rows = _rows(session, settings, actor)
    return {
        "nav": "settings",
        "tab": "data-export",
        "rows": rows,
        "busy": any(row["unfinished"] for row in rows),
        "poll_seconds": POLL_SECONDS,
        "ttl_hours": settings.export_ttl_hours,
    }


@router.get(PAGE)
def data_export(request: Request, session: DB, settings: AppSettings, actor: PageActor) -> Response:
    service.require_admin(actor)
    return render(request, "settings/data_export.html", _context(session, settings, actor))


@router.get(f"{PAGE}/list")
def data_export_list(
    request: Request, session: DB, settings: AppSettings, actor: PageActor
) -> Response:
    """The list alone: what the page's htmx polling swaps in while an export is built."""
    service.require_admin(actor)
    return render(request, "settings/_data_export_body.html", _context(session, settings, actor))


@router.post(PAGE)
def request_export(request: Request, session: DB, actor: PageActor) -> Response:
    return submit(
        session,
        lambda: service.request(session, actor),
        done=lambda _row: redirect(
            request,
            PAGE,
            "Your export is being built. You will get an e-mail with the download link when "
            "it is ready.",
        ),
        refused=flash_back(request, PAGE, problem_detail),
    )


@router.get(f"{PAGE}/{{export_id}}/download")
def download(
    request: Request,
    session: DB,
    settings: AppSettings,
    actor: PageActor,
    export_id: str,
    token: str = "",
) -> Response:
    path, name = service.file_to_download(
        session, settings, actor, parse_id(export_id, "export"), token[:1000]
    )
    session.commit()
    return FileResponse(
        path, media_type="application/zip", filename=name, headers={"Cache-Control": "no-store"}
    )
