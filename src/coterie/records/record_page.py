"""The record page: one shared record's core, my space and the partners' spaces, as
`coterie.records.service.read` returns them to the viewer, and nothing else: a partner's private
fields and, with "hide private fields" on, my own company's private values never reach the HTML.

The shared core and my space edit in place with htmx (the handlers answer a fragment) and work
as plain forms without it (POST-redirect-GET, or the full page with the form open on errors).
A stale version answers 409 with the latest values and what the refused save tried to change.
The panels of the packages above `records` (workflow, activity: `page_panels`) are rendered
into the same response, so the page never shows "Loading…" for what the server already has.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.fields import templates
from coterie.fields.kinds import KindInfo, ParticipantStatus
from coterie.kit.preconditions import version_in
from coterie.kit.problems import Problem
from coterie.network.companies import names as company_names
from coterie.records import admission, forms, page_panels, presenters, service
from coterie.records.presenters import FieldView, Inputs
from coterie.records.schemas import RecordOut, RecordPatch, SpaceOut
from coterie.web.forms import FORM_ERROR, FormFields, errors_from_validation
from coterie.web.paths import parse_id
from coterie.web.submit import raise_on, submit
from coterie.web.templating import is_htmx, redirect, render, render_fragment

CORE_FIELDS = ("title", "customer_name", "customer_domain", "motion", "joint_stage", "description")
NULLABLE_CORE = frozenset({"customer_domain", "motion", "joint_stage"})
OPEN_STATUSES = frozenset({ParticipantStatus.ACTIVE.value, ParticipantStatus.INVITED.value})


def _url(info: KindInfo, record_id: uuid.UUID | str | None = None, *parts: str) -> str:
    path = f"/{info.plural}"
    if record_id is not None:
        path += f"/{record_id}"
    return "/".join([path, *parts])


def _owner_name(record: RecordOut) -> str:
    for p in record.participants:
        if p.company_id == record.owner_company_id:
            return p.company_name
    return ""


def _mine(record: RecordOut) -> SpaceOut | None:
    return next((s for s in record.spaces if s.is_mine), None)


@dataclass
class RecordView:
    """Everything the record page and its fragments show, from one `service.read`."""

    info: KindInfo
    record: RecordOut
    template: templates.CompanyTemplate
    fields: list[FieldView]  # my template's fields this kind shows (`records.forms`)
    user_names: dict[str, str]
    currencies: list[tuple[str, str]]

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
            "currencies": self.currencies,
            "core_inputs": forms.kind_form(self.info.kind.value).core,
            "motions": presenters.motion_choices(),
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
        hide_private=actor.principal.hide_private,
        user_names=user_names,
        company_names=company_names(session, presenters.audience_ids(template)),
    )
    fields = forms.with_stage_choices(
        session, actor.company_id, kind, forms.space_fields(kind, fields)
    )
    currencies = forms.currency_choices(actor.company.currency)
    return RecordView(info, record, template, fields, user_names, currencies)


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
    admitting = admission.panel(session, actor, view.info.kind.value, record.id)
    on_record = {p.company_id for p in record.participants if p.status in OPEN_STATUSES}
    on_record |= {
        p.company_id
        for p in admitting.proposals
        if p.status == "pending" and p.proposed_by_company_id == actor.company_id
    }
    invitable = [
        (cid, name)
        for cid, name in presenters.partner_choices(session, actor)
        if uuid.UUID(cid) not in on_record
    ]
    panels = {
        name: render_fragment(request, content.template, content.context, actor=actor)
        for name, content in page_panels.collect(session, actor, view.info, record.id).items()
    }
    return render(
        request,
        "records/record.html",
        _panel_context(view, core or Panel(), space or Panel())
        | {
            "nav": view.info.plural,
            "panels": panels,
            "invitable": invitable,
            "admits": admitting.admits,
            "proposals": admitting.proposals,
            "owner_name": next(
                (
                    p.company_name
                    for p in record.participants
                    if p.company_id == record.owner_company_id
                ),
                "The owner",
            ),
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
    editable = (*forms.kind_form(kind).core_names, "joint_stage")  # what this kind's form shows
    submitted = {key: form.text(key) for key in editable if key != "description"}
    if "description" in editable:
        submitted["description"] = presenters.multiline(form, "description")
    changed = {
        key: (value or None) if key in NULLABLE_CORE else value
        for key, value in submitted.items()
        if value != before[key]
    }
    version = version_in(form.text("version"))
    if version is None:
        errors = {FORM_ERROR: "This form lost its version number; reload the page and retry."}
        return _respond(request, session, actor, view, "core", Panel(True, submitted, errors), 422)
    try:
        patch = RecordPatch.model_validate(changed)
    except ValidationError as exc:
        panel = Panel(True, submitted, errors_from_validation(exc))
        return _respond(request, session, actor, view, "core", panel, 422)

    def refused(problem: Problem) -> Response:
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

    message = "Shared details saved." if changed else "Nothing changed."
    return submit(
        session,
        lambda: service.update_core(session, actor, kind, rid, patch, version),
        done=lambda _: _saved(request, session, actor, info, rid, "core", message),
        refused=refused,
        passes=raise_on(404),
    )


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
    version = version_in(form.text("version"))
    if version is None:
        errors = {FORM_ERROR: "This form lost its version number; reload the page and retry."}
        return _respond(request, session, actor, view, "space", Panel(True, inputs, errors), 422)

    def refused(problem: Problem) -> Response:
        if problem.status == 412:
            latest = _view(session, actor, info, rid)
            attempted = presenters.describe_changes(view.fields, patch, view.user_names)
            panel = Panel(True, conflict=_conflict_message(attempted))
            return _respond(request, session, actor, latest, "space", panel, 409)
        panel = _refused(problem, inputs, presenters.field_errors(problem, inputs))
        return _respond(request, session, actor, view, "space", panel, problem.status)

    message = "Your space is saved." if patch else "Nothing changed."
    return submit(
        session,
        lambda: service.update_my_space(session, actor, kind, rid, patch, version),
        done=lambda _: _saved(request, session, actor, info, rid, "space", message),
        refused=refused,
        passes=raise_on(404),
    )
