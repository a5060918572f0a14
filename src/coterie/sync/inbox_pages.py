"""Pages of the conflicts inbox (`/settings/integrations/{connection}/conflicts`) and the record
page's "In your CRM" panel (`/{plural}/{id}/crm`, loaded with htmx after the page).

Reads are calls to `coterie.sync.resolve` / `record_links` (the gate first); each write is one
service call and one commit. Panel forms post with htmx and get the panel back; without htmx
they post and redirect to the record page. A refused decision (someone was faster: 412) shows
the state as it stands with the reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.config import Settings
from coterie.deps import DB, AppSettings
from coterie.fields.kinds import KINDS, KindInfo
from coterie.kit.preconditions import version_in
from coterie.kit.problems import Problem
from coterie.models.vocabulary import Role
from coterie.sync import record_links, resolve, service
from coterie.sync.inbox_schemas import Choice
from coterie.sync.labels import crm_label
from coterie.web import csrf
from coterie.web.forms import FormFields, FormInput
from coterie.web.paths import parse_id
from coterie.web.sessions import PageActor
from coterie.web.submit import flash_back, flash_done, raise_on, submit
from coterie.web.templating import is_htmx, redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])
Filter = Annotated[str, Query(max_length=500)]
PAGE_SIZE = 100
STALE = "Someone changed this meanwhile; here it is as it stands now."


def _inbox_url(connection_id: uuid.UUID, field: str = "", record: str = "") -> str:
    query = urlencode({k: v for k, v in (("field", field), ("record", record)) if v})
    return f"/settings/integrations/{connection_id}/conflicts" + (f"?{query}" if query else "")


def _refusal(problem: Problem) -> str:
    return STALE if problem.status == 412 else problem.detail


@router.get("/settings/integrations/{connection_id}/conflicts")
def conflicts_page(
    request: Request,
    session: DB,
    actor: PageActor,
    connection_id: str,
    field: Filter = "",
    record: Filter = "",
    cursor: Filter = "",
) -> Response:
    cid = parse_id(connection_id, "connection")
    connection = service.my_connection(session, actor, cid)
    record_id = _uuid_or_none(record)
    items, next_cursor = resolve.list_open(
        session,
        actor,
        connection_id=cid,
        field=field or None,
        record_id=record_id,
        limit=PAGE_SIZE,
        cursor=cursor or None,
    )
    return render(
        request,
        "sync/conflicts.html",
        {
            "nav": "settings",
            "tab": "integrations",
            "connection": connection,
            "crm": crm_label(connection.kind),
            "items": items,
            "next_cursor": next_cursor,
            "field": field,
            "record": str(record_id) if record_id else "",
            "fields": resolve.fields_in_conflict(session, actor, cid),
            "records": resolve.records_in_conflict(session, actor, cid),
            "plurals": {info.kind.value: info.plural for info in KINDS.values()},
            "back": _inbox_url(cid, field, str(record_id) if record_id else ""),
        },
    )


def _uuid_or_none(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None


def _back(form: FormFields, connection_id: uuid.UUID) -> str:
    back = form.text("next")
    prefix = f"/settings/integrations/{connection_id}/conflicts"
    return back if back.startswith(prefix) and "//" not in back else prefix


@router.post("/settings/integrations/{connection_id}/conflicts/{conflict_id}/resolve")
def resolve_page(
    request: Request,
    session: DB,
    actor: PageActor,
    form: FormInput,
    connection_id: str,
    conflict_id: str,
) -> Response:
    cid = parse_id(connection_id, "connection")
    back = _back(form, cid)
    version = version_in(form.text("version"))
    choice = form.text("choice")
    if version is None or choice not in Choice._value2member_map_:
        return redirect(
            request, back, "This form is incomplete; reload the page and retry.", "error"
        )

    message = (
        "Kept. The record keeps the value that won."
        if choice == Choice.KEEP
        else "Switched. The record now holds the other value; the CRM gets it if it lacks it."
    )
    return submit(
        session,
        lambda: resolve.resolve(
            session, actor, parse_id(conflict_id, "conflict"), version, Choice(choice)
        ),
        done=flash_done(request, back, message),
        refused=flash_back(request, back, _refusal),
    )


@router.post("/settings/integrations/{connection_id}/conflicts/keep-all")
def keep_all_page(
    request: Request, session: DB, actor: PageActor, form: FormInput, connection_id: str
) -> Response:
    cid = parse_id(connection_id, "connection")
    back = _back(form, cid)
    ids = [i for i in (_uuid_or_none(t) for t in form.texts("ids")) if i is not None]

    def done(kept: int) -> Response:
        return redirect(request, back, f"Kept the winning value of {kept} conflict(s).")

    return submit(
        session,
        lambda: resolve.keep_all(session, actor, ids[:500]),
        done=done,
        refused=flash_back(request, back, _refusal),
    )


# -- the record page's panel ------------------------------------------------------------------


def _panel(
    request: Request,
    session: Session,
    actor: Actor,
    settings: Settings,
    info: KindInfo,
    record_id: uuid.UUID,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    connections = record_links.panel(session, actor, settings, info.kind.value, record_id)
    if not connections:
        return Response(status_code=200)  # no CRM of my company maps this kind: no panel
    return render(
        request,
        "sync/_crm_panel.html",
        {
            "info": info,
            "record_id": record_id,
            "connections": connections,
            "can_act": actor.has_role(Role.MANAGER),
            "notice": notice,
            "error": error,
        },
        status_code=status_code,
    )


def _panel_submit(
    request: Request,
    session: Session,
    actor: Actor,
    settings: Settings,
    info: KindInfo,
    record_id: uuid.UUID,
    use_case: Callable[[], object],
    message: str,
) -> Response:
    """Run one of the panel's actions: the panel again with `message` or the refusal (htmx), or
    the record page with it as a flash."""
    record_page = f"/{info.plural}/{record_id}"

    def done(_: object) -> Response:
        if is_htmx(request):
            return _panel(request, session, actor, settings, info, record_id, notice=message)
        return redirect(request, record_page, message)

    def refused(problem: Problem) -> Response:
        if is_htmx(request):
            status = 409 if problem.status == 412 else problem.status
            return _panel(
                request,
                session,
                actor,
                settings,
                info,
                record_id,
                error=_refusal(problem),
                status_code=status,
            )
        return redirect(request, record_page, _refusal(problem), "error")

    return submit(session, use_case, done=done, refused=refused, passes=raise_on(404))


def _routes(info: KindInfo) -> APIRouter:
    routes = APIRouter()
    base = f"/{info.plural}/{{record_id}}/crm"
    kind = info.kind.value

    @routes.get(base)
    def crm_panel(
        request: Request, session: DB, actor: PageActor, settings: AppSettings, record_id: str
    ) -> Response:
        rid = parse_id(record_id, kind)
        if not is_htmx(request):  # a fragment URL opened as a page: show the record page
            return redirect(request, f"/{info.plural}/{rid}")
        return _panel(request, session, actor, settings, info, rid)

    @routes.post(base + "/push")
    def push(
        request: Request,
        session: DB,
        actor: PageActor,
        settings: AppSettings,
        form: FormInput,
        record_id: str,
    ) -> Response:
        rid = parse_id(record_id, kind)
        connection = _uuid_or_none(form.text("connection_id"))
        return _panel_submit(
            request,
            session,
            actor,
            settings,
            info,
            rid,
            lambda: record_links.push_to_crm(
                session, actor, kind, rid, connection or uuid.UUID(int=0)
            ),
            "Queued: it reaches the CRM in a moment (matched there, or created).",
        )

    def link_action(action: str, message: str) -> None:
        def act(
            request: Request,
            session: DB,
            actor: PageActor,
            settings: AppSettings,
            form: FormInput,
            record_id: str,
            link_id: str,
        ) -> Response:
            rid = parse_id(record_id, kind)
            lid = parse_id(link_id, "link")
            version = version_in(form.text("version")) or 0

            def run() -> object:
                if action == "choose":
                    return record_links.choose(
                        session, actor, kind, rid, lid, version, form.text("remote_id") or None
                    )
                if action == "unlink":
                    return record_links.unlink(session, actor, kind, rid, lid, version)
                return record_links.relink(session, actor, kind, rid, lid, version)

            return _panel_submit(request, session, actor, settings, info, rid, run, message)

        routes.add_api_route(f"{base}/{{link_id}}/{action}", act, methods=["POST"])

    link_action("choose", "Linked. The next sync merges both records.")
    link_action("unlink", "Unlinked. This record no longer syncs with that CRM record.")
    link_action("relink", "Linked again. The next sync merges what changed meanwhile.")
    return routes


for _info in KINDS.values():
    router.include_router(_routes(_info))
