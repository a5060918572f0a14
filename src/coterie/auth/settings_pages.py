"""Personal settings pages: API tokens, preferences, and the "hide private fields" switch."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from zoneinfo import available_timezones

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from coterie.auth import preferences, service
from coterie.auth.preferences import PreferencesPatch
from coterie.auth.principal import Actor
from coterie.auth.schemas import PersonalTokenIn
from coterie.deps import DB
from coterie.models.vocabulary import TokenKind
from coterie.web import csrf
from coterie.web.forms import FormInput, errors_from_validation
from coterie.web.paths import parse_id
from coterie.web.sessions import PageActor, safe_next
from coterie.web.submit import flash_back, problem_detail, submit
from coterie.web.templating import redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])

EXPIRY_CHOICES = [("", "Never"), ("30", "30 days"), ("90", "90 days"), ("365", "1 year")]
NOTIFICATION_CHOICES = [
    ("immediate", "Right away"),
    ("daily", "Once a day, as a digest"),
    ("off", "Never"),
]


@lru_cache(maxsize=1)
def timezone_choices() -> list[str]:
    return sorted(available_timezones() | {"UTC"})


# -- personal API tokens ----------------------------------------------------------------------


def _tokens_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    created: tuple[str, str] | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "settings/tokens.html",
        {
            "nav": "settings",
            "tab": "tokens",
            "tokens": service.list_personal_tokens(session, actor),
            "created": created,
            "expiry_choices": EXPIRY_CHOICES,
            "values": values or {},
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/settings/tokens")
def tokens(request: Request, session: DB, actor: PageActor) -> Response:
    return _tokens_page(request, session, actor)


@router.post("/settings/tokens")
def create_token(request: Request, session: DB, actor: PageActor, form: FormInput) -> Response:
    values = {"name": form.text("name"), "expires_in_days": form.text("expires_in_days")}
    try:
        body = PersonalTokenIn.model_validate(
            {"name": values["name"], "expires_in_days": values["expires_in_days"] or None}
        )
    except ValidationError as exc:
        errors = errors_from_validation(exc)
        return _tokens_page(request, session, actor, values=values, errors=errors, status_code=422)
    ttl = timedelta(days=body.expires_in_days) if body.expires_in_days else None
    token, secret = service.issue_token(
        session, actor.user, TokenKind.PERSONAL, name=body.name, ttl=ttl
    )
    session.commit()
    # Shown in this response only: no redirect, so the secret never travels in a cookie or URL.
    return _tokens_page(request, session, actor, created=(token.name, secret))


@router.post("/settings/tokens/{token_id}/revoke")
def revoke_token(request: Request, session: DB, actor: PageActor, token_id: str) -> Response:
    return submit(
        session,
        lambda: service.revoke_token(session, actor, parse_id(token_id, "token")),
        done=lambda token: redirect(
            request, "/settings/tokens", f"The token “{token.name}” is revoked."
        ),
        refused=flash_back(request, "/settings/tokens", problem_detail),
    )


# -- preferences ------------------------------------------------------------------------------


def _preferences_page(
    request: Request,
    actor: Actor,
    *,
    values: dict[str, object] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    current = preferences.read(actor.user.preferences).model_dump()
    return render(
        request,
        "settings/preferences.html",
        {
            "nav": "settings",
            "tab": "preferences",
            "values": values or current,
            "errors": errors or {},
            "notification_choices": NOTIFICATION_CHOICES,
            "timezones": [(zone, zone) for zone in timezone_choices()],
        },
        status_code=status_code,
    )


@router.get("/settings/preferences")
def preferences_page(request: Request, actor: PageActor) -> Response:
    return _preferences_page(request, actor)


@router.post("/settings/preferences")
def update_preferences(
    request: Request, session: DB, actor: PageActor, form: FormInput
) -> Response:
    values: dict[str, object] = {
        "hide_private_fields": form.flag("hide_private_fields"),
        "email_notifications": form.text("email_notifications"),
        "timezone": form.text("timezone"),
    }
    try:
        patch = PreferencesPatch.model_validate(values)
    except ValidationError as exc:
        errors = errors_from_validation(exc)
        return _preferences_page(request, actor, values=values, errors=errors, status_code=422)
    actor.user.preferences = preferences.apply(actor.user.preferences, patch)
    session.commit()
    return redirect(request, "/settings/preferences", "Preferences saved.")


@router.post("/preferences/hide-private")
def toggle_hide_private(
    request: Request, session: DB, actor: PageActor, form: FormInput
) -> Response:
    hide = form.flag("hide")
    patch = PreferencesPatch(hide_private_fields=hide)
    actor.user.preferences = preferences.apply(actor.user.preferences, patch)
    session.commit()
    message = (
        "Private fields are hidden: your company's private values stay off screen."
        if hide
        else "Private fields are shown again."
    )
    return redirect(request, safe_next(form.text("next")), message, "info")
