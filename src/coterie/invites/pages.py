"""Invite-by-e-mail pages: the form (also opened as a dialog from the network, directory and
record pages), my company's invitations sent by e-mail (with revoke), and the link's signup page.

Every write is one `invites.service` call and one commit; bad input re-renders the form with a
message next to the field, a refused link shows what to do next.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.authz import gate
from coterie.config import Settings
from coterie.db import utcnow
from coterie.deps import DB, AppSettings
from coterie.fields.kinds import KINDS, Kind
from coterie.invites import service
from coterie.invites.schemas import EmailInviteIn
from coterie.kit.problems import Problem, not_found
from coterie.models import User
from coterie.models.vocabulary import Industry
from coterie.network.schemas import SignupIn
from coterie.web import csrf, sessions
from coterie.web.forms import FORM_ERROR, FormInput, errors_from_problem, errors_from_validation
from coterie.web.paths import parse_id
from coterie.web.sessions import MaybeActor, PageActor
from coterie.web.submit import flash_back, problem_detail, submit
from coterie.web.templating import redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])
Text = Annotated[str, Query(max_length=2000)]
FIELDS = ("name", "email", "company_name", "message")
SIGNUP_FIELDS = ("company.name", "company.domain", "company.industry", "user.name")
SIGNUP_SLUG_FIELDS = {"email-taken": "user.email", "company-domain-taken": "company.domain"}


def _record_target(
    session: Session, actor: Actor, kind: str, record_id: str
) -> tuple[str, uuid.UUID, str] | None:
    """(kind, id, title) of the record the form invites onto; None: a partnership."""
    if not kind and not record_id:
        return None
    try:
        info = KINDS[Kind(kind)]
    except ValueError as exc:
        raise not_found("record") from exc
    rid = parse_id(record_id, info.kind.value)
    record = gate.check(session, actor.principal, info.kind.value, rid)
    return info.kind.value, rid, record.title


def _form(
    request: Request,
    session: Session,
    actor: Actor,
    target: tuple[str, uuid.UUID, str] | None,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "invites/new.html",
        {
            "nav": "network",
            "target": target,
            "target_label": KINDS[Kind(target[0])].label.lower() if target else None,
            "target_url": f"/{KINDS[Kind(target[0])].plural}/{target[1]}" if target else None,
            "values": values or {},
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/invites/new")
def new_invite(
    request: Request, session: DB, actor: PageActor, kind: Text = "", record_id: Text = ""
) -> Response:
    return _form(request, session, actor, _record_target(session, actor, kind, record_id))


def _sent_message(sent: service.Sent, data: EmailInviteIn) -> str:
    if sent.invite is not None:
        return (
            f"Invitation e-mailed to {data.name} ({sent.invite.email}). The link works once, "
            f"until {service.day(sent.invite.expires_at)}; you can withdraw it below."
        )
    if sent.partnership is not None:
        return (
            f"{sent.company_name} is already on Coterie, so {data.name}'s company got a "
            "partnership invitation; its admins and managers were notified."
        )
    if sent.admission is not None and sent.admission.proposed:
        return (
            f"{sent.company_name} is already on Coterie: you proposed it to the record's owner, "
            "who decides whether it joins."
        )
    return (
        f"{sent.company_name} is already on Coterie, so it is invited onto the record; its "
        "admins and managers were notified."
    )


@router.post("/invites")
def send_invite(
    request: Request, session: DB, settings: AppSettings, actor: PageActor, form: FormInput
) -> Response:
    target = _record_target(session, actor, form.text("kind"), form.text("record_id"))
    values = {name: form.text(name) for name in FIELDS}
    try:
        data = EmailInviteIn.model_validate(values)
    except ValidationError as exc:
        errors = errors_from_validation(exc)
        return _form(request, session, actor, target, values=values, errors=errors, status_code=422)

    def use_case() -> service.Sent:
        if target is None:
            return service.to_partnership(session, settings, actor, data)
        return service.to_record(session, settings, actor, target[0], target[1], data)

    def done(sent: service.Sent) -> Response:
        if sent.invite is not None:
            return redirect(request, "/invites", _sent_message(sent, data))
        back = f"/{KINDS[Kind(target[0])].plural}/{target[1]}" if target else "/network"
        return redirect(request, back, _sent_message(sent, data))

    def refused(problem: Problem) -> Response:
        errors = errors_from_problem(problem, {"own-company": "email"})
        return _form(
            request,
            session,
            actor,
            target,
            values=values,
            errors=errors,
            status_code=problem.status,
        )

    return submit(session, use_case, done=done, refused=refused)


@router.get("/invites")
def sent_invites(request: Request, session: DB, actor: PageActor) -> Response:
    invites = service.sent_by_my_company(session, actor)
    titles = gate.visible_titles(
        session,
        actor.principal,
        {(i.kind, i.record_id) for i in invites if i.kind is not None and i.record_id is not None},
    )
    now = utcnow()
    inviters = {
        u.id: u.name
        for u in session.scalars(
            select(User).where(
                User.id.in_({i.invited_by_user_id for i in invites if i.invited_by_user_id})
            )
        )
    }
    rows: list[dict[str, Any]] = [
        {
            "invite": i,
            "status": i.status(now),
            "what": (
                "Partnership"
                if i.target == "partnership" or i.kind is None
                else f"{KINDS[Kind(i.kind)].label} “{titles[i.record_id]}”"
                if i.record_id in titles
                else f"A {KINDS[Kind(i.kind)].label.lower()} you no longer see"
            ),
            "url": None
            if i.kind is None or i.record_id not in titles
            else f"/{KINDS[Kind(i.kind)].plural}/{i.record_id}",
            "invited_by": inviters.get(i.invited_by_user_id) if i.invited_by_user_id else None,
        }
        for i in invites
    ]
    return render(request, "invites/list.html", {"nav": "network", "rows": rows})


@router.post("/invites/{invite_id}/revoke")
def revoke_invite(request: Request, session: DB, actor: PageActor, invite_id: str) -> Response:
    return submit(
        session,
        lambda: service.revoke(session, actor, parse_id(invite_id, "invitation")),
        done=lambda invite: redirect(
            request, "/invites", f"The invitation to {invite.email} is withdrawn: its link is dead."
        ),
        refused=flash_back(request, "/invites", problem_detail),
    )


# -- the link: sign up from the invitation -------------------------------------------------------


def _link_invalid(request: Request, problem: Problem) -> Response:
    return render(request, "invites/link_invalid.html", {"problem": problem}, status_code=400)


def _signup_form(
    request: Request,
    settings: Settings,
    token: str,
    found: service.Preview,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    invite = found.invite
    defaults = {
        "company.name": found.suggested_company,
        "company.domain": found.suggested_domain,
        "user.name": invite.name,
    }
    return render(
        request,
        "invites/signup.html",
        {
            "token": token,
            "preview": found,
            "email": invite.email,
            "values": defaults | (values or {}),
            "errors": errors or {},
            "industries": list(Industry),
            "signup_enabled": settings.signup_enabled,
            "expires": service.day(invite.expires_at),
        },
        status_code=status_code,
    )


@router.get("/invites/accept")
def accept_page(
    request: Request, session: DB, settings: AppSettings, actor: MaybeActor, token: Text = ""
) -> Response:
    try:
        found = service.preview(session, settings, token)
    except Problem as problem:
        return _link_invalid(request, problem)
    return _signup_form(request, settings, token, found)


@router.post("/invites/accept")
def accept(request: Request, session: DB, settings: AppSettings, form: FormInput) -> Response:
    token = form.text("token")
    try:
        found = service.preview(session, settings, token)
    except Problem as problem:
        return _link_invalid(request, problem)
    values = {name: form.text(name) for name in SIGNUP_FIELDS}
    data = {
        "company": {
            "name": values["company.name"],
            "domain": values["company.domain"],
            "industry": values["company.industry"] or None,
        },
        "user": {
            "name": values["user.name"],
            "email": found.invite.email,  # locked to the invited address
            "password": form.text("user.password", strip=False),
        },
    }
    try:
        body = SignupIn.model_validate(data)
    except ValidationError as exc:
        errors = errors_from_validation(exc)
        return _signup_form(
            request, settings, token, found, values=values, errors=errors, status_code=422
        )

    def joined(result: service.Joined) -> Response:
        return sessions.signed_in(
            request, session, settings, result.user, result.url, result.message
        )

    def refused(problem: Problem) -> Response:
        if problem.status == 400 and problem.slug.startswith(("token", "invitation")):
            return _link_invalid(request, problem)
        errors = errors_from_problem(problem, SIGNUP_SLUG_FIELDS)
        if problem.slug == "email-taken":
            errors = {FORM_ERROR: f"{problem.detail} Sign in instead, or ask for a new invitation."}
        return _signup_form(
            request,
            settings,
            token,
            found,
            values=values,
            errors=errors,
            status_code=problem.status,
        )

    return submit(
        session,
        lambda: service.accept(session, settings, token, body),
        done=joined,
        refused=refused,
        commit=False,  # the session token is part of the same unit of work
    )
