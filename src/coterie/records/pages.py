"""Shared-record page routes, one set per record kind: the list, its export and saved views,
creating a record, and the record page with its editable panels (`list_pages`, `record_page`).

Every read goes through `coterie.records.service` (`list_visible`, `read`, `my_invitations`),
which reads through the gate and masks in SQL; every write is one service call and one commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from coterie.deps import DB
from coterie.fields.kinds import KINDS, KindInfo
from coterie.kit.problems import Problem
from coterie.records import export, new_record, query
from coterie.records.invitation_page import invitation_page
from coterie.records.list_pages import _delete_view, _list_page, _save_view
from coterie.records.record_page import (
    Panel,
    _fragment,
    _record_page,
    _save_core,
    _save_space,
    _url,
    _view,
)
from coterie.web import csrf
from coterie.web.forms import FormInput
from coterie.web.paths import parse_id
from coterie.web.sessions import PageActor
from coterie.web.templating import is_htmx, redirect

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])
MAX_CURSOR = 500
Text = Annotated[str, Query(max_length=MAX_CURSOR)]


def _routes(info: KindInfo) -> APIRouter:
    routes = APIRouter()
    base = f"/{info.plural}"

    @routes.get(base)
    def list_page(request: Request, session: DB, actor: PageActor, cursor: Text = "") -> Response:
        return _list_page(request, session, actor, info, cursor=cursor)

    @routes.post(base)
    def create(request: Request, session: DB, actor: PageActor, form: FormInput) -> Response:
        def page(dialog: new_record.NewForm, status_code: int) -> Response:
            return _list_page(
                request, session, actor, info, new_dialog=dialog, status_code=status_code
            )

        return new_record.create(request, session, actor, info, form, page)

    @routes.post(base + "/views")
    def save_view(request: Request, session: DB, actor: PageActor, form: FormInput) -> Response:
        return _save_view(request, session, actor, info, form)

    @routes.post(base + "/views/{view_id}/delete")
    def delete_view(
        request: Request, session: DB, actor: PageActor, form: FormInput, view_id: str
    ) -> Response:
        return _delete_view(request, session, actor, info, view_id, form)

    @routes.get(base + "/export")
    def export_page(
        session: DB,
        actor: PageActor,
        export_format: Annotated[export.ExportFormat, Query(alias="format")] = "csv",
        filter_text: Annotated[str, Query(alias="filter", max_length=query.MAX_FILTER_LENGTH)] = "",
        sort_text: Annotated[str, Query(alias="sort", max_length=query.MAX_SORT_LENGTH)] = "",
    ) -> Response:
        """The list as CSV or XLSX for a signed-in user: the API's export, same gate and masks."""
        return export.export(
            session,
            actor,
            info,
            export_format,
            filter_text=filter_text or None,
            sort_text=sort_text or None,
        )

    @routes.get(base + "/{record_id}")
    def record_page(
        request: Request, session: DB, actor: PageActor, record_id: str, edit: Text = ""
    ) -> Response:
        rid = parse_id(record_id, info.kind.value)
        try:
            view = _view(session, actor, info, rid)
        except Problem as problem:  # not visible: my company may be invited (invitation view)
            invited = (
                invitation_page(request, session, actor, info, rid)
                if problem.status == 404
                else None
            )
            if invited is None:
                raise
            return invited
        owner = view.record.owner_company_id == actor.company_id
        return _record_page(
            request,
            session,
            actor,
            view,
            core=Panel(editing=edit == "core" and owner),
            space=Panel(editing=edit == "space" and view.mine is not None),
        )

    def panel_route(which: str, editing: bool) -> Callable[..., Response]:
        def show(request: Request, session: DB, actor: PageActor, record_id: str) -> Response:
            rid = parse_id(record_id, info.kind.value)
            if not is_htmx(request):  # a fragment URL opened as a page: show the whole page
                return redirect(request, _url(info, rid) + (f"?edit={which}" if editing else ""))
            view = _view(session, actor, info, rid)
            allowed = editing and (
                view.record.owner_company_id == actor.company_id
                if which == "core"
                else view.mine is not None
            )
            return _fragment(request, session, actor, view, which, Panel(allowed))

        return show

    for which in ("core", "space"):
        routes.add_api_route(f"{base}/{{record_id}}/{which}", panel_route(which, False))
        routes.add_api_route(f"{base}/{{record_id}}/{which}/edit", panel_route(which, True))

    @routes.post(base + "/{record_id}/core")
    def save_core(
        request: Request, session: DB, actor: PageActor, form: FormInput, record_id: str
    ) -> Response:
        return _save_core(request, session, actor, info, record_id, form)

    @routes.post(base + "/{record_id}/space")
    def save_space(
        request: Request, session: DB, actor: PageActor, form: FormInput, record_id: str
    ) -> Response:
        return _save_space(request, session, actor, info, record_id, form)

    return routes


for _info in KINDS.values():
    router.include_router(_routes(_info))
