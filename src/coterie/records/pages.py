"""Shared-record pages: lists of accounts, leads and opportunities, and the record page.

Every read goes through `coterie.records.service` (`list_visible`, `read`, `my_invitations`),
which reads through the gate and masks in SQL; every write is one service call and one commit.
The page shows what the service returned and nothing else, so a partner's private fields and,
with "hide private fields" on, my own company's private values never reach the HTML.

The shared core and my space edit in place with htmx (the handlers answer a fragment) and work
as plain forms without it (POST-redirect-GET, or the full page with the form open on errors).
A stale version answers 409 with the latest values and what the refused save tried to change.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from coterie.auth.preferences import read as read_preferences
from coterie.auth.principal import Actor
from coterie.deps import DB
from coterie.kit.problems import Problem
from coterie.network.pages import parse_id
from coterie.records import presenters, service, templates
from coterie.records.kinds import KINDS, KindInfo, ParticipantStatus
from coterie.records.presenters import FieldView, Inputs
from coterie.records.schemas import RecordCreate, RecordOut, RecordPatch, SpaceOut
from coterie.web import csrf
from coterie.web.forms import FORM_ERROR, FormFields, FormInput, errors_from_validation
from coterie.web.sessions import PageActor
from coterie.web.templating import is_htmx, redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])

PAGE_SIZE = 25
MAX_CURSOR = 500
Text = Annotated[str, Query(max_length=MAX_CURSOR)]
CORE_FIELDS = ("title", "customer_name", "customer_domain", "motion", "joint_stage", "description")
NULLABLE_CORE = frozenset({"customer_domain", "motion", "joint_stage"})
LIST_COLUMNS = ("stage", "amount", "close_date")
OPEN_STATUSES = frozenset({ParticipantStatus.ACTIVE.value, ParticipantStatus.INVITED.value})


def _hide_private(actor: Actor) -> bool:
    return read_preferences(actor.user.preferences).hide_private_fields


def _url(info: KindInfo, record_id: uuid.UUID | str | None = None, *parts: str) -> str:
    path = f"/{info.plural}"
    if record_id is not None:
        path += f"/{record_id}"
    return "/".join([path, *parts])


def _version(form: FormFields) -> int | None:
    text = form.text("version")
    return int(text) if text.isdigit() and len(text) < 12 else None


def _rolled_back(session: Session) -> None:
    """Undo a refused write before the page reads again (PostgreSQL aborts a failed one)."""
    session.rollback()


# -- lists ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    private: bool
    hidden: bool


@dataclass(frozen=True)
class Row:
    record: RecordOut
    owner_name: str
    participants: list[tuple[str, str]]  # (company name, status)
    mine: dict[str, str]  # column key -> display text
    partner_amounts: list[tuple[str, str]]  # (company name, amount)


def _owner_name(record: RecordOut) -> str:
    for p in record.participants:
        if p.company_id == record.owner_company_id:
            return p.company_name
    return ""


def _mine(record: RecordOut) -> SpaceOut | None:
    return next((s for s in record.spaces if s.is_mine), None)


def _row(record: RecordOut, template: templates.CompanyTemplate, user_names: dict[str, str]) -> Row:
    mine = _mine(record)
    values = mine.fields if mine is not None else {}
    return Row(
        record=record,
        owner_name=_owner_name(record),
        participants=[
            (p.company_name, p.status) for p in record.participants if p.status in OPEN_STATUSES
        ],
        mine={
            key: presenters.display(
                values.get(key), presenters.definition_for(template, key), user_names
            )
            for key in LIST_COLUMNS
        },
        partner_amounts=[
            (s.company_name, presenters.money_text(s.fields["amount"]))
            for s in record.spaces
            if not s.is_mine and "amount" in s.fields
        ],
    )


def _list_page(
    request: Request,
    session: Session,
    actor: Actor,
    info: KindInfo,
    *,
    cursor: str = "",
    new_inputs: dict[str, Any] | None = None,
    new_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    kind = info.kind.value
    notice = None
    try:
        records, next_cursor = service.list_visible(
            session, actor, kind, limit=PAGE_SIZE, cursor=cursor or None
        )
    except Problem:  # a stale or edited cursor: start again from the first page
        notice = "That page link is no longer valid, so here is the first page."
        cursor = ""
        records, next_cursor = service.list_visible(
            session, actor, kind, limit=PAGE_SIZE, cursor=None
        )
    template = templates.load(session, actor.company_id, kind)
    hide = _hide_private(actor)
    user_names = presenters.user_names_for(session, actor, records)
    columns = []
    for key in LIST_COLUMNS:
        definition = template.by_key[key]
        private = definition.visibility_mode() == "private"
        columns.append(Column(key, definition.label or key, private, hide and private))
    new_fields = presenters.my_fields(
        template,
        None,
        hide_private=False,
        user_names={},
        company_names=presenters.company_names(session, presenters.audience_ids(template)),
    )
    invitations = [i for i in service.my_invitations(session, actor) if i.kind == kind]
    return render(
        request,
        "records/list.html",
        {
            "nav": info.plural,
            "info": info,
            "rows": [_row(r, template, user_names) for r in records],
            "columns": columns,
            "invitations": invitations,
            "next_url": _url(info) + "?" + urlencode({"cursor": next_cursor})
            if next_cursor
            else None,
            "first_url": _url(info) if cursor else None,
            "notice": notice,
            "new_fields": new_fields,
            "new_open": bool(new_errors),
            "values": new_inputs or {},
            "errors": new_errors or {},
            "motions": presenters.motion_choices(),
            "colleagues": presenters.colleague_choices(session, actor),
        },
        status_code=status_code,
    )


def _create(
    request: Request, session: Session, actor: Actor, info: KindInfo, form: FormFields
) -> Response:
    kind = info.kind.value
    template = templates.load(session, actor.company_id, kind)
    views = presenters.my_fields(
        template, None, hide_private=False, user_names={}, company_names={}
    )
    fields, inputs = presenters.new_values(views, form)
    core = {key: form.text(key) for key in CORE_FIELDS if key != "description"}
    core["description"] = presenters.multiline(form, "description")
    shown: dict[str, Any] = {**core, **inputs}

    def again(errors: dict[str, str]) -> Response:
        return _list_page(
            request, session, actor, info, new_inputs=shown, new_errors=errors, status_code=422
        )

    try:
        data = RecordCreate.model_validate(
            {
                "title": core["title"],
                "customer_name": core["customer_name"],
                "customer_domain": core["customer_domain"] or None,
                "motion": core["motion"] or None,
                "description": core["description"],
                "fields": fields,
            }
        )
    except ValidationError as exc:
        return again(errors_from_validation(exc))
    try:
        record = service.create(session, actor, kind, data)
    except Problem as problem:
        _rolled_back(session)
        return again(presenters.field_errors(problem, inputs))
    session.commit()
    return redirect(request, _url(info, record.id), f"{info.label} “{data.title}” created.")


def _answer_invitation(
    request: Request,
    session: Session,
    actor: Actor,
    info: KindInfo,
    record_id: str,
    *,
    accept: bool,
) -> Response:
    kind = info.kind.value
    rid = parse_id(record_id, kind)
    invitation = next(
        (i for i in service.my_invitations(session, actor) if i.record_id == rid), None
    )
    title = f"“{invitation.title}”" if invitation is not None else "the record"
    try:
        if accept:
            service.accept(session, actor, kind, rid, actor.company_id)
        else:
            service.decline(session, actor, kind, rid, actor.company_id)
    except Problem as problem:
        _rolled_back(session)
        return redirect(request, _url(info), problem.detail, "error")
    session.commit()
    if accept:
        message = (
            f"You joined {title}. Your own space on it is private until your template shares "
            "its fields."
        )
        return redirect(request, _url(info, rid), message)
    return redirect(request, _url(info), f"You declined the invitation to {title}.")


# -- the record page --------------------------------------------------------------------------


@dataclass
class RecordView:
    """Everything the record page and its fragments show, from one `service.read`."""

    info: KindInfo
    record: RecordOut
    template: templates.CompanyTemplate
    fields: list[FieldView]
    user_names: dict[str, str]

    @property
    def mine(self) -> SpaceOut | None:
        return _mine(self.record)

    def context(self) -> dict[str, Any]:
        record = self.record
        return {
            "info": self.info,
            "record": record,
            "owner_name": _owner_name(record),
            "motion_label": presenters.MOTION_LABELS.get(record.motion or "", record.motion),
            "mine": self.mine,
            "my_fields": self.fields,
            "hidden_count": sum(1 for f in self.fields if f.hidden),
            "partners": [
                (s, presenters.partner_fields(s, self.user_names))
                for s in record.spaces
                if not s.is_mine
            ],
        }


def _view(session: Session, actor: Actor, info: KindInfo, record_id: uuid.UUID) -> RecordView:
    kind = info.kind.value
    record = service.read(session, actor, kind, record_id)  # 404 when hidden
    template = templates.load(session, actor.company_id, kind)
    user_names = presenters.user_names_for(session, actor, [record])
    fields = presenters.my_fields(
        template,
        _mine(record),
        hide_private=_hide_private(actor),
        user_names=user_names,
        company_names=presenters.company_names(session, presenters.audience_ids(template)),
    )
    return RecordView(info, record, template, fields, user_names)


def _core_inputs(record: RecordOut) -> dict[str, str]:
    return {key: str(getattr(record, key) or "") for key in CORE_FIELDS}


def _space_inputs(fields: list[FieldView]) -> Inputs:
    inputs: Inputs = {}
    for view in fields:
        if not view.hidden:
            inputs.update(presenters.inputs_of(view))
    return inputs


@dataclass
class Panel:
    """The state of one editable panel (the core, or my space)."""

    editing: bool = False
    values: dict[str, Any] | None = None
    errors: dict[str, str] | None = None
    notice: str | None = None
    conflict: list[str] | None = None


def _panel_context(view: RecordView, core: Panel, space: Panel) -> dict[str, Any]:
    return view.context() | {
        "core": core,
        "core_values": core.values if core.values is not None else _core_inputs(view.record),
        "core_errors": core.errors or {},
        "space": space,
        "space_values": space.values if space.values is not None else _space_inputs(view.fields),
        "space_errors": space.errors or {},
    }


def _record_page(
    request: Request,
    session: Session,
    actor: Actor,
    view: RecordView,
    *,
    core: Panel | None = None,
    space: Panel | None = None,
    status_code: int = 200,
) -> Response:
    record = view.record
    on_record = {p.company_id for p in record.participants if p.status in OPEN_STATUSES}
    invitable = [
        (cid, name)
        for cid, name in presenters.partner_choices(session, actor)
        if uuid.UUID(cid) not in on_record
    ]
    return render(
        request,
        "records/record.html",
        _panel_context(view, core or Panel(), space or Panel())
        | {
            "nav": view.info.plural,
            "invitable": invitable,
            "colleagues": presenters.colleague_choices(session, actor),
        },
        status_code=status_code,
    )


def _fragment(
    request: Request,
    session: Session,
    actor: Actor,
    view: RecordView,
    which: str,
    panel: Panel,
    status_code: int = 200,
) -> Response:
    empty = Panel()
    core, space = (panel, empty) if which == "core" else (empty, panel)
    context = _panel_context(view, core, space)
    if which == "space":
        context["colleagues"] = presenters.colleague_choices(session, actor)
    return render(request, f"records/_{which}.html", context, status_code=status_code)


def _respond(
    request: Request,
    session: Session,
    actor: Actor,
    view: RecordView,
    which: str,
    panel: Panel,
    status_code: int,
) -> Response:
    """A refused or re-shown edit: the panel alone for htmx, else the page with it open."""
    if is_htmx(request):
        return _fragment(request, session, actor, view, which, panel, status_code)
    panels = {"core": panel} if which == "core" else {"space": panel}
    return _record_page(request, session, actor, view, status_code=status_code, **panels)


def _saved(
    request: Request,
    session: Session,
    actor: Actor,
    info: KindInfo,
    record_id: uuid.UUID,
    which: str,
    message: str,
) -> Response:
    if is_htmx(request):
        view = _view(session, actor, info, record_id)
        return _fragment(request, session, actor, view, which, Panel(notice=message))
    return redirect(request, _url(info, record_id), message)


def _conflict_message(attempted: list[str]) -> list[str]:
    return attempted or ["none (you had not changed anything)"]


def _refused(problem: Problem, inputs: dict[str, Any], errors: dict[str, str]) -> Panel:
    """A refusal that is not about the input (403: read-only access) closes the form."""
    if problem.status == 403:
        return Panel(errors={FORM_ERROR: problem.detail})
    return Panel(True, inputs, errors)


def _save_core(
    request: Request,
    session: Session,
    actor: Actor,
    info: KindInfo,
    record_id: str,
    form: FormFields,
) -> Response:
    kind = info.kind.value
    rid = parse_id(record_id, kind)
    view = _view(session, actor, info, rid)
    before = _core_inputs(view.record)
    submitted = {key: form.text(key) for key in CORE_FIELDS if key != "description"}
    submitted["description"] = presenters.multiline(form, "description")
    changed = {
        key: (value or None) if key in NULLABLE_CORE else value
        for key, value in submitted.items()
        if value != before[key]
    }
    version = _version(form)
    if version is None:
        errors = {FORM_ERROR: "This form lost its version number; reload the page and retry."}
        return _respond(request, session, actor, view, "core", Panel(True, submitted, errors), 422)
    try:
        patch = RecordPatch.model_validate(changed)
    except ValidationError as exc:
        panel = Panel(True, submitted, errors_from_validation(exc))
        return _respond(request, session, actor, view, "core", panel, 422)
    try:
        service.update_core(session, actor, kind, rid, patch, version)
    except Problem as problem:
        _rolled_back(session)
        if problem.status == 404:
            raise
        if problem.status == 412:
            latest = _view(session, actor, info, rid)
            attempted = [
                f"{key.replace('_', ' ').capitalize()}: {value or '—'}"
                for key, value in changed.items()
            ]
            panel = Panel(True, conflict=_conflict_message(attempted))
            return _respond(request, session, actor, latest, "core", panel, 409)
        errors = presenters.field_errors(problem, CORE_FIELDS)
        panel = _refused(problem, submitted, errors)
        return _respond(request, session, actor, view, "core", panel, problem.status)
    session.commit()
    message = "Shared details saved." if changed else "Nothing changed."
    return _saved(request, session, actor, info, rid, "core", message)


def _save_space(
    request: Request,
    session: Session,
    actor: Actor,
    info: KindInfo,
    record_id: str,
    form: FormFields,
) -> Response:
    kind = info.kind.value
    rid = parse_id(record_id, kind)
    view = _view(session, actor, info, rid)
    patch, inputs = presenters.changes(view.fields, form)
    version = _version(form)
    if version is None:
        errors = {FORM_ERROR: "This form lost its version number; reload the page and retry."}
        return _respond(request, session, actor, view, "space", Panel(True, inputs, errors), 422)
    try:
        service.update_my_space(session, actor, kind, rid, patch, version)
    except Problem as problem:
        _rolled_back(session)
        if problem.status == 404:
            raise
        if problem.status == 412:
            latest = _view(session, actor, info, rid)
            attempted = presenters.describe_changes(view.fields, patch, view.user_names)
            panel = Panel(True, conflict=_conflict_message(attempted))
            return _respond(request, session, actor, latest, "space", panel, 409)
        panel = _refused(problem, inputs, presenters.field_errors(problem, inputs))
        return _respond(request, session, actor, view, "space", panel, problem.status)
    session.commit()
    message = "Your space is saved." if patch else "Nothing changed."
    return _saved(request, session, actor, info, rid, "space", message)


# -- participants -----------------------------------------------------------------------------


def _company_name(record: RecordOut, company_id: uuid.UUID) -> str:
    return next(
        (p.company_name for p in record.participants if p.company_id == company_id),
        "That company",
    )


def _invite(
    request: Request,
    session: Session,
    actor: Actor,
    info: KindInfo,
    record_id: str,
    form: FormFields,
) -> Response:
    kind = info.kind.value
    rid = parse_id(record_id, kind)
    back = _url(info, rid)
    try:
        company_id = uuid.UUID(form.text("company_id"))
    except ValueError:
        return redirect(request, back, "Choose a partner company to invite.", "error")
    names = dict(presenters.partner_choices(session, actor))
    try:
        service.invite(session, actor, kind, rid, company_id)
    except Problem as problem:
        _rolled_back(session)
        if problem.status == 404:
            raise
        return redirect(request, back, problem.detail, "error")
    session.commit()
    name = names.get(str(company_id)) or presenters.company_names(session, [company_id]).get(
        company_id, "The company"
    )
    message = (
        f"{name} is invited. Until it accepts it sees only the title, the customer and who "
        "invited it."
    )
    return redirect(request, back, message)


def _remove(
    request: Request,
    session: Session,
    actor: Actor,
    info: KindInfo,
    record_id: str,
    company_id: str,
) -> Response:
    kind = info.kind.value
    rid = parse_id(record_id, kind)
    target = parse_id(company_id, "company")
    record = service.read(session, actor, kind, rid)
    leaving = target == actor.company_id
    name = _company_name(record, target)
    try:
        service.remove(session, actor, kind, rid, target)
    except Problem as problem:
        _rolled_back(session)
        return redirect(request, _url(info, rid), problem.detail, "error")
    session.commit()
    if leaving:
        return redirect(request, _url(info), f"{actor.company.name} left “{record.title}”.", "info")
    return redirect(request, _url(info, rid), f"{name} is no longer on this record.")


# -- routes -----------------------------------------------------------------------------------


def _routes(info: KindInfo) -> APIRouter:
    routes = APIRouter()
    base = f"/{info.plural}"

    @routes.get(base)
    def list_page(request: Request, session: DB, actor: PageActor, cursor: Text = "") -> Response:
        return _list_page(request, session, actor, info, cursor=cursor)

    @routes.post(base)
    def create(request: Request, session: DB, actor: PageActor, form: FormInput) -> Response:
        return _create(request, session, actor, info, form)

    @routes.post(base + "/{record_id}/accept")
    def accept(request: Request, session: DB, actor: PageActor, record_id: str) -> Response:
        return _answer_invitation(request, session, actor, info, record_id, accept=True)

    @routes.post(base + "/{record_id}/decline")
    def decline(request: Request, session: DB, actor: PageActor, record_id: str) -> Response:
        return _answer_invitation(request, session, actor, info, record_id, accept=False)

    @routes.get(base + "/{record_id}")
    def record_page(
        request: Request, session: DB, actor: PageActor, record_id: str, edit: Text = ""
    ) -> Response:
        view = _view(session, actor, info, parse_id(record_id, info.kind.value))
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

    @routes.post(base + "/{record_id}/participants")
    def invite(
        request: Request, session: DB, actor: PageActor, form: FormInput, record_id: str
    ) -> Response:
        return _invite(request, session, actor, info, record_id, form)

    @routes.post(base + "/{record_id}/participants/{company_id}/remove")
    def remove(
        request: Request, session: DB, actor: PageActor, record_id: str, company_id: str
    ) -> Response:
        return _remove(request, session, actor, info, record_id, company_id)

    return routes


for _info in KINDS.values():
    router.include_router(_routes(_info))
