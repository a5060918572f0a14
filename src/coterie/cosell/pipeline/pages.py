"""Pages of lead nomination, conversion and deal registration.

- `/leads/nominations`: leads nominated to my company (only the invitation view: title,
  customer, nominator, note), duplicate warnings among my own records, accept with an owner or
  reject with a reason.
- The record page loads one panel with htmx (`/leads/{id}/pipeline`,
  `/opportunities/{id}/pipeline`): on a lead, nominate to partners, the decisions I may see,
  duplicate warnings and conversion; on an opportunity, its deal registrations.
- `/registrations`: my company's registrations in both directions; `/settings/registrations`.

Every read is a call to `coterie.cosell.pipeline.leads` / `registrations` (gate first); every
write is one service call and one commit. Panel forms post with htmx and get the panel back;
without htmx they post and redirect.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.cosell.pipeline import leads, registrations
from coterie.cosell.pipeline.schemas import (
    REJECT_REASON_LABELS,
    ConvertIn,
    DecisionOut,
    DecisionStatus,
    RegistrationSettingsIn,
    RegistrationStatus,
    RejectReason,
)
from coterie.deps import DB
from coterie.fields.kinds import KindInfo
from coterie.kit.problems import Problem, invalid
from coterie.models.vocabulary import Role
from coterie.records import presenters
from coterie.records import service as records
from coterie.records.page_panels import PanelContent
from coterie.web import csrf
from coterie.web.forms import (
    FORM_ERROR,
    STALE_FORM,
    FormInput,
    errors_from_validation,
    is_stale,
    problem_message,
)
from coterie.web.paths import parse_id
from coterie.web.sessions import PageActor, safe_next
from coterie.web.submit import flash_back, flash_done, problem_detail, raise_on, submit
from coterie.web.templating import is_htmx, navigate, redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])
Choice = Annotated[str, Query(max_length=40)]
PANEL_KINDS = {"leads": "lead", "opportunities": "opportunity"}


# -- the nominations inbox --------------------------------------------------------------------


@router.get("/leads/nominations")
def nominations_page(
    request: Request, session: DB, actor: PageActor, status: Choice = "pending"
) -> Response:
    chosen = DecisionStatus(status) if status in DecisionStatus._value2member_map_ else None
    items, _ = leads.nominations(session, actor, status=chosen, limit=100, cursor=None)
    warnings = {
        item.record_id: leads.lead_duplicates(session, actor, item.record_id)
        for item in items
        if item.status == DecisionStatus.PENDING
    }
    return render(
        request,
        "cosell/leads_nominations.html",
        {
            "nav": "leads",
            "items": items,
            "status": chosen.value if chosen else "",
            "statuses": [(s.value, s.value.capitalize()) for s in DecisionStatus],
            "warnings": warnings,
            "colleagues": presenters.colleague_choices(session, actor),
            "reasons": list(REJECT_REASON_LABELS.items()),
            "reason_labels": REJECT_REASON_LABELS,
        },
    )


@router.post("/leads/nominations/{lead_id}/accept")
def accept_nomination(
    request: Request, session: DB, actor: PageActor, form: FormInput, lead_id: str
) -> Response:
    rid = parse_id(lead_id, "lead")
    try:
        owner = uuid.UUID(form.text("owner_user_id"))
    except ValueError:
        return redirect(request, "/leads/nominations", "Choose the lead's owner.", "error")
    return submit(
        session,
        lambda: leads.accept(session, actor, rid, owner),
        done=flash_done(request, f"/leads/{rid}", "Lead accepted. It is in your pipeline now."),
        refused=flash_back(request, "/leads/nominations", problem_detail),
        passes=raise_on(404),
    )


@router.post("/leads/nominations/{lead_id}/reject")
def reject_nomination(
    request: Request, session: DB, actor: PageActor, form: FormInput, lead_id: str
) -> Response:
    rid = parse_id(lead_id, "lead")
    code = form.text("reason_code")
    if code not in REJECT_REASON_LABELS:
        return redirect(request, "/leads/nominations", "Choose why you reject the lead.", "error")
    return submit(
        session,
        lambda: leads.reject(session, actor, rid, RejectReason(code), form.text("reason")[:2000]),
        done=flash_done(
            request, "/leads/nominations", "Lead rejected. The nominating company sees your reason."
        ),
        refused=flash_back(request, "/leads/nominations", problem_detail),
        passes=raise_on(404),
    )


# -- the panel on the record page -------------------------------------------------------------


def _lead_panel(
    request: Request,
    session: Session,
    actor: Actor,
    lead_id: uuid.UUID,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    content = _lead_content(session, actor, lead_id)
    context = content.context | {"notice": notice}
    return render(request, content.template, context, status_code=status_code)


def _lead_content(session: Session, actor: Actor, lead_id: uuid.UUID) -> PanelContent:
    record = records.read(session, actor, "lead", lead_id)  # 404 when hidden
    on_lead = {p.company_id for p in record.participants if p.status in ("invited", "active")}
    partners = [
        (cid, name)
        for cid, name in presenters.partner_choices(session, actor)
        if uuid.UUID(cid) not in on_lead
    ]
    converted = leads.converted_to(session, actor, lead_id)
    return PanelContent(
        "cosell/leads_panel.html",
        {
            "record": record,
            "decisions": leads.decisions(session, actor, lead_id),
            "duplicates": leads.lead_duplicates(session, actor, lead_id),
            "partners": partners,
            "converted": converted,
            "is_converted": record.joint_stage == leads.CONVERTED,
            "motions": presenters.motion_choices(),
            "reason_labels": REJECT_REASON_LABELS,
            "notice": None,
        },
    )


def _registrations_panel(
    request: Request,
    session: Session,
    actor: Actor,
    opportunity_id: uuid.UUID,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    content = _registrations_content(session, actor, opportunity_id)
    context = content.context | {"notice": notice, "error": error}
    return render(request, content.template, context, status_code=status_code)


def _registrations_content(
    session: Session, actor: Actor, opportunity_id: uuid.UUID
) -> PanelContent:
    record = records.read(session, actor, "opportunity", opportunity_id)  # 404 when hidden
    return PanelContent(
        "cosell/registrations_panel.html",
        {
            "record": record,
            "registrations": registrations.for_opportunity(session, actor, opportunity_id),
            "partners": presenters.partner_choices(session, actor),
            "can_decide": actor.has_role(Role.MANAGER),
            "notice": None,
            "error": None,
            "back": f"/opportunities/{opportunity_id}",
        },
    )


def record_panel(
    session: Session, actor: Actor, info: KindInfo, record_id: uuid.UUID
) -> PanelContent | None:
    """The record page's pipeline panel: a lead's nominations and conversion, an opportunity's
    deal registrations; nothing for other kinds."""
    if info.kind.value == "lead":
        return _lead_content(session, actor, record_id)
    if info.kind.value == "opportunity":
        return _registrations_content(session, actor, record_id)
    return None


def _panel_route(plural: str) -> Any:
    kind = PANEL_KINDS[plural]

    def pipeline_panel(request: Request, session: DB, actor: PageActor, record_id: str) -> Response:
        rid = parse_id(record_id, kind)
        if not is_htmx(request):  # a fragment URL opened as a page: show the record page
            return redirect(request, f"/{plural}/{rid}")
        if kind == "lead":
            return _lead_panel(request, session, actor, rid)
        return _registrations_panel(request, session, actor, rid)

    return pipeline_panel


for _plural in PANEL_KINDS:
    router.add_api_route(f"/{_plural}/{{record_id}}/pipeline", _panel_route(_plural))


def _after_panel_write(
    request: Request, session: Session, actor: Actor, plural: str, rid: uuid.UUID, message: str
) -> Response:
    if is_htmx(request):
        if plural == "leads":
            return _lead_panel(request, session, actor, rid, notice=message)
        return _registrations_panel(request, session, actor, rid, notice=message)
    return redirect(request, f"/{plural}/{rid}", message)


def _refused(request: Request, plural: str, rid: uuid.UUID, problem: Problem) -> Response:
    if is_htmx(request) or problem.status == 404:
        raise problem  # htmx: an alert in the flashes area
    return redirect(request, f"/{plural}/{rid}", problem.detail, "error")


@router.post("/leads/{lead_id}/nominate")
def nominate(
    request: Request, session: DB, actor: PageActor, form: FormInput, lead_id: str
) -> Response:
    rid = parse_id(lead_id, "lead")
    try:
        chosen = [uuid.UUID(value) for value in form.texts("company_ids")]
    except ValueError:
        return _refused(request, "leads", rid, invalid("body.company_ids", "Not a company."))

    def nominate() -> list[DecisionOut]:
        if not chosen:
            raise invalid("body.company_ids", "Choose at least one partner to nominate to.")
        return leads.nominate(session, actor, rid, chosen, form.text("note")[:2000])

    def nominated(decided: list[DecisionOut]) -> Response:
        names = ", ".join(d.company_name for d in decided)
        return _after_panel_write(
            request, session, actor, "leads", rid, f"Nominated to {names}. They see the invitation."
        )

    return submit(
        session,
        nominate,
        done=nominated,
        refused=lambda problem: _refused(request, "leads", rid, problem),
    )


@router.post("/leads/{lead_id}/convert")
def convert(
    request: Request, session: DB, actor: PageActor, form: FormInput, lead_id: str
) -> Response:
    rid = parse_id(lead_id, "lead")
    try:
        data = ConvertIn.model_validate(
            {"title": form.text("title") or None, "motion": form.text("motion") or None}
        )
    except ValidationError as exc:
        first = next(iter(errors_from_validation(exc).values()), "Check the form.")
        return _refused(request, "leads", rid, invalid("body", first))

    return submit(
        session,
        lambda: leads.convert(session, actor, rid, data),
        done=lambda opportunity: navigate(  # the whole page moves on, not the panel
            request,
            f"/opportunities/{opportunity.id}",
            "Lead converted to an opportunity.",
            htmx_status=204,
        ),
        refused=lambda problem: _refused(request, "leads", rid, problem),
    )


@router.post("/opportunities/{opportunity_id}/registrations")
def draft_registration(
    request: Request, session: DB, actor: PageActor, form: FormInput, opportunity_id: str
) -> Response:
    rid = parse_id(opportunity_id, "opportunity")
    try:
        to = uuid.UUID(form.text("registered_to_company_id"))
    except ValueError:
        return _refused(
            request, "opportunities", rid, invalid("body.registered_to_company_id", "Choose one.")
        )
    return submit(
        session,
        lambda: registrations.create(session, actor, rid, to, form.text("notes")[:2000]),
        done=lambda _: _after_panel_write(
            request,
            session,
            actor,
            "opportunities",
            rid,
            "Registration drafted: submit it to send.",
        ),
        refused=lambda problem: _refused(request, "opportunities", rid, problem),
    )


ACTIONS = {
    "submit": "Registration submitted.",
    "renew": "Renewal requested.",
    "approve": "Registration approved.",
    "reject": "Registration rejected.",
}


@router.post("/registrations/{registration_id}/{action}")
def registration_action(
    request: Request,
    session: DB,
    actor: PageActor,
    form: FormInput,
    registration_id: str,
    action: str,
) -> Response:
    reg_id = parse_id(registration_id, "deal registration")
    if action not in ACTIONS:
        raise Problem(404, "not-found", "Not found", "There is no such page.")
    found = registrations.read(session, actor, reg_id)  # 404 when hidden
    reason = form.text("reason")[:2000]
    back = safe_next(form.text("next"), f"/opportunities/{found.record_id}")

    def act() -> None:
        version = form.version()
        if action == "submit":
            registrations.submit(session, actor, reg_id, version)
        elif action == "renew":
            registrations.renew(session, actor, reg_id, version)
        elif action == "approve":
            registrations.approve(session, actor, reg_id, reason, version)
        else:
            if not reason:
                raise invalid("body.reason", "Say why you reject the registration.")
            registrations.reject(session, actor, reg_id, reason, version)

    def done(_: None) -> Response:
        if is_htmx(request) and back.startswith("/opportunities/"):
            return _registrations_panel(
                request, session, actor, found.record_id, notice=ACTIONS[action]
            )
        return redirect(request, back, ACTIONS[action])

    def refused(problem: Problem) -> Response:
        if is_htmx(request) and is_stale(problem) and back.startswith("/opportunities/"):
            return _registrations_panel(
                request, session, actor, found.record_id, error=STALE_FORM, status_code=409
            )
        if is_htmx(request) or problem.status == 404:
            raise problem
        return redirect(request, back, problem_message(problem), "error")

    return submit(session, act, done=done, refused=refused)


# -- registrations list and settings ----------------------------------------------------------


@router.get("/registrations")
def registrations_page(
    request: Request, session: DB, actor: PageActor, role: Choice = "", status: Choice = ""
) -> Response:
    chosen = RegistrationStatus(status) if status in RegistrationStatus._value2member_map_ else None
    side = role if role in ("registering", "registered_to") else None
    items, next_cursor = registrations.list_mine(
        session, actor, role=side, status=chosen, limit=200, cursor=None
    )
    return render(
        request,
        "cosell/registrations_list.html",
        {
            "nav": "opportunities",
            "items": items,
            "more": next_cursor is not None,
            "role": side or "",
            "status": chosen.value if chosen else "",
            "statuses": [(s.value, s.value.capitalize()) for s in RegistrationStatus],
            "roles": [("registering", "Registered by us"), ("registered_to", "Registered with us")],
            "can_decide": actor.has_role(Role.MANAGER),
        },
    )


def _settings_page(
    request: Request,
    actor: Actor,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "cosell/registrations_settings.html",
        {"nav": "settings", "values": values, "errors": errors or {}},
        status_code=status_code,
    )


@router.get("/settings/registrations")
def settings_page(request: Request, session: DB, actor: PageActor) -> Response:
    current = registrations.settings_of(session, actor.company_id)
    return _settings_page(request, actor, {k: str(v) for k, v in current.model_dump().items()})


@router.post("/settings/registrations")
def save_settings(request: Request, session: DB, actor: PageActor, form: FormInput) -> Response:
    values = {
        key: form.text(key) for key in ("expiry_days", "renewal_days", "max_renewals", "version")
    }
    try:
        data = RegistrationSettingsIn.model_validate(
            {key: values[key] for key in ("expiry_days", "renewal_days", "max_renewals")}
        )
    except ValidationError as exc:
        return _settings_page(request, actor, values, errors_from_validation(exc), 422)

    def refused(problem: Problem) -> Response:
        current = registrations.settings_of(session, actor.company_id)
        return _settings_page(
            request,
            actor,
            {k: str(v) for k, v in current.model_dump().items()},
            {FORM_ERROR: STALE_FORM},
            409,
        )

    return submit(
        session,
        lambda: registrations.save_settings(session, actor, data, form.version()),
        done=flash_done(request, "/settings/registrations", "Registration settings saved."),
        refused=refused,
        passes=lambda problem: not is_stale(problem),
    )
