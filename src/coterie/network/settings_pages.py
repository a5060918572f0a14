"""Company settings pages: the company profile, users and invitations, accepting an invitation."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

import pycountry
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.deps import DB, AppSettings
from coterie.kit.problems import Problem
from coterie.models import Company, User
from coterie.models.vocabulary import CompanySize, Industry, PartnerType, Region, Role
from coterie.network import companies as company_service
from coterie.network import members
from coterie.network.schemas import CompanyPatch, InvitationAcceptIn, InvitationIn, UserPatch
from coterie.web import csrf, sessions
from coterie.web.forms import FormInput, errors_from_problem, errors_from_validation
from coterie.web.paths import parse_id
from coterie.web.sessions import MaybeActor, PageActor
from coterie.web.submit import flash_back, flash_done, problem_detail, submit
from coterie.web.templating import redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])

PAGE_SIZE = 100
Cursor = Annotated[str, Query()]


@lru_cache(maxsize=1)
def country_choices() -> list[tuple[str, str]]:
    return sorted(((c.alpha_2, c.name) for c in pycountry.countries), key=lambda c: c[1])


@lru_cache(maxsize=1)
def currency_choices() -> list[tuple[str, str]]:
    return sorted((c.alpha_3, f"{c.alpha_3} · {c.name}") for c in pycountry.currencies)


@router.get("/settings")
def settings_home(request: Request, actor: PageActor) -> Response:
    return redirect(request, "/settings/company")


# -- company profile --------------------------------------------------------------------------


def _company_values(company: Company) -> dict[str, Any]:
    return {
        "name": company.name,
        "industry": company.industry or "",
        "regions": company.regions,
        "hq_country": company.hq_country or "",
        "description": company.description,
        "size": company.size or "",
        "partner_types": company.partner_types,
        "currency": company.currency,
        "website": company.website or "",
    }


def _company_form(
    request: Request,
    actor: Actor,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "settings/company.html",
        {
            "nav": "settings",
            "tab": "company",
            "values": values,
            "errors": errors or {},
            "domain": actor.company.domain,
            "industries": list(Industry),
            "regions": list(Region),
            "partner_types": list(PartnerType),
            "sizes": list(CompanySize),
            "countries": country_choices(),
            "currencies": currency_choices(),
        },
        status_code=status_code,
    )


@router.get("/settings/company")
def company_settings(request: Request, actor: PageActor) -> Response:
    return _company_form(request, actor, _company_values(actor.company))


@router.post("/settings/company")
def update_company(request: Request, session: DB, actor: PageActor, form: FormInput) -> Response:
    values: dict[str, Any] = {
        "name": form.text("name"),
        "industry": form.text("industry"),
        "regions": form.texts("regions"),
        "hq_country": form.text("hq_country"),
        "description": form.text("description"),
        "size": form.text("size"),
        "partner_types": form.texts("partner_types"),
        "currency": form.text("currency"),
        "website": form.text("website"),
    }
    optional = {"industry", "hq_country", "size", "currency", "website"}
    data = {key: (value or None) if key in optional else value for key, value in values.items()}
    try:
        patch = CompanyPatch.model_validate(data)
    except ValidationError as exc:
        return _company_form(request, actor, values, errors_from_validation(exc), 422)
    return submit(
        session,
        lambda: company_service.update_company(session, actor, patch),
        done=flash_done(request, "/settings/company", "Company profile saved."),
        refused=lambda problem: _company_form(
            request, actor, values, errors_from_problem(problem), problem.status
        ),
    )


# -- users and invitations --------------------------------------------------------------------


def _users_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    users_cursor: str = "",
    invitations_cursor: str = "",
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    try:
        users, next_users = members.list_users(
            session, actor, limit=PAGE_SIZE, cursor=users_cursor or None
        )
    except Problem:
        users, next_users = members.list_users(session, actor, limit=PAGE_SIZE, cursor=None)
    try:
        invitations, next_invitations = members.list_invitations(
            session, actor, limit=PAGE_SIZE, cursor=invitations_cursor or None
        )
    except Problem:
        invitations, next_invitations = members.list_invitations(
            session, actor, limit=PAGE_SIZE, cursor=None
        )
    roles = [r for r in Role if actor.has_role(Role.ADMIN) or r != Role.ADMIN]
    return render(
        request,
        "settings/users.html",
        {
            "nav": "settings",
            "tab": "users",
            "users": users,
            "next_users": next_users,
            "invitations": [members.invitation_out(i, session) for i in reversed(invitations)],
            "next_invitations": next_invitations,
            "roles": list(Role),
            "invite_roles": roles,
            "values": values or {"role": Role.MEMBER.value},
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/settings/users")
def users_settings(
    request: Request,
    session: DB,
    actor: PageActor,
    users_cursor: Cursor = "",
    invitations_cursor: Cursor = "",
) -> Response:
    return _users_page(
        request,
        session,
        actor,
        users_cursor=users_cursor,
        invitations_cursor=invitations_cursor,
    )


@router.post("/settings/users/{user_id}")
def update_user(
    request: Request, session: DB, actor: PageActor, form: FormInput, user_id: str
) -> Response:
    data: dict[str, Any] = {}
    if form.text("role"):
        data["role"] = form.text("role")
    if form.text("is_active"):
        data["is_active"] = form.text("is_active")
    try:
        patch = UserPatch.model_validate(data)
    except ValidationError:
        return redirect(request, "/settings/users", "Choose a valid role.", "error")

    def updated(user: User) -> Response:
        state = "active" if user.is_active else "deactivated"
        return redirect(request, "/settings/users", f"{user.name} is now {user.role} ({state}).")

    return submit(
        session,
        lambda: members.update_user(
            session,
            actor,
            parse_id(user_id, "user"),
            role=patch.role,
            is_active=patch.is_active,
        ),
        done=updated,
        refused=flash_back(request, "/settings/users", problem_detail),
    )


@router.post("/settings/invitations")
def invite_colleague(
    request: Request, session: DB, settings: AppSettings, actor: PageActor, form: FormInput
) -> Response:
    values = {"email": form.text("email"), "role": form.text("role") or Role.MEMBER.value}
    try:
        body = InvitationIn.model_validate(values)
    except ValidationError as exc:
        errors = errors_from_validation(exc)
        return _users_page(request, session, actor, values=values, errors=errors, status_code=422)

    def refused(problem: Problem) -> Response:
        errors = errors_from_problem(problem, {"email-taken": "email"})
        return _users_page(
            request, session, actor, values=values, errors=errors, status_code=problem.status
        )

    return submit(
        session,
        lambda: members.invite(session, settings, actor, str(body.email), body.role),
        done=lambda invitation: redirect(
            request,
            "/settings/users",
            f"Invitation sent to {invitation.email}. "
            f"The link works for {settings.invitation_ttl_hours} hours.",
        ),
        refused=refused,
    )


@router.post("/settings/invitations/{invitation_id}/revoke")
def revoke_invitation(
    request: Request, session: DB, actor: PageActor, invitation_id: str
) -> Response:
    return submit(
        session,
        lambda: members.revoke_invitation(session, actor, parse_id(invitation_id, "invitation")),
        done=lambda invitation: redirect(
            request, "/settings/users", f"The invitation to {invitation.email} is revoked."
        ),
        refused=flash_back(request, "/settings/users", problem_detail),
    )


# -- accepting an invitation ------------------------------------------------------------------


def _invitation_invalid(request: Request, problem: Problem) -> Response:
    return render(
        request,
        "auth/link_invalid.html",
        {"problem": problem, "invitation": True},
        status_code=problem.status,
    )


@router.get("/invitations/accept")
def accept_invitation_page(
    request: Request,
    session: DB,
    settings: AppSettings,
    actor: MaybeActor,
    token: Annotated[str, Query()] = "",
) -> Response:
    try:
        preview = members.preview(session, settings, token)
    except Problem as problem:
        return _invitation_invalid(request, problem)
    return render(request, "network/invitation_accept.html", {"preview": preview, "token": token})


@router.post("/invitations/accept")
def accept_invitation(
    request: Request,
    session: DB,
    settings: AppSettings,
    actor: MaybeActor,
    form: FormInput,
) -> Response:
    token = form.text("token")
    try:
        preview = members.preview(session, settings, token)
    except Problem as problem:
        return _invitation_invalid(request, problem)
    values = {"name": form.text("name")}

    def form_again(errors: dict[str, str], status_code: int) -> Response:
        return render(
            request,
            "network/invitation_accept.html",
            {"preview": preview, "token": token, "values": values, "errors": errors},
            status_code=status_code,
        )

    try:
        body = InvitationAcceptIn.model_validate(
            {"token": token, "name": values["name"], "password": form.text("password", strip=False)}
        )
    except ValidationError as exc:
        return form_again(errors_from_validation(exc), 422)

    def refused(problem: Problem) -> Response:
        if not problem.errors and problem.slug != "email-taken":
            return _invitation_invalid(request, problem)
        return form_again(errors_from_problem(problem), problem.status)

    return submit(
        session,
        lambda: members.accept(session, settings, body),
        done=lambda user: sessions.signed_in(
            request,
            session,
            settings,
            user,
            "/",
            f"Welcome to {preview.company_name} on Coterie, {user.name}!",
        ),
        refused=refused,
        commit=False,  # the session token is part of the same unit of work
    )
