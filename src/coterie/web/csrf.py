"""CSRF protection of every state-changing web form: a signed double-submit token.

The browser holds a random `coterie_csrf` cookie (HttpOnly, SameSite=Strict). Each page puts
`HMAC(secret key, cookie value)` into its forms (hidden `csrf_token` field) and into the
`X-CSRF-Token` header that htmx sends. A POST is accepted only when that token matches the
cookie it came with. Anonymous forms (login, signup) are protected the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request, Response

from coterie.config import Settings
from coterie.kit.problems import Problem

CSRF_COOKIE = "coterie_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_NEW_COOKIE = "coterie_csrf_new"  # request.state attribute: a cookie to set on the response
_MAX_COOKIE_LENGTH = 200


def token_for(settings: Settings, cookie_value: str) -> str:
    """The form token that matches `cookie_value`: an HMAC only the server can compute."""
    message = f"coterie.csrf:{cookie_value}".encode()
    return hmac.new(settings.secret().encode(), message, hashlib.sha256).hexdigest()


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _usable(value: str | None) -> bool:
    return bool(value) and len(value or "") <= _MAX_COOKIE_LENGTH


def cookie_value(request: Request) -> str:
    """The CSRF cookie of this browser, or a new one that the response will set."""
    pending: str | None = getattr(request.state, _NEW_COOKIE, None)
    if pending:
        return pending
    current = request.cookies.get(CSRF_COOKIE)
    if current and _usable(current):
        return current
    return rotate(request)


def rotate(request: Request) -> str:
    """Start a new CSRF cookie (done at sign-in); forms rendered from now on use it."""
    value = secrets.token_urlsafe(32)
    setattr(request.state, _NEW_COOKIE, value)
    return value


def form_token(request: Request) -> str:
    return token_for(_settings(request), cookie_value(request))


def set_cookie_if_new(request: Request, response: Response) -> None:
    value: str | None = getattr(request.state, _NEW_COOKIE, None)
    if value:
        response.set_cookie(
            CSRF_COOKIE,
            value,
            path="/",
            httponly=True,
            samesite="strict",
            secure=_settings(request).secure_cookies,
        )


def rejected() -> Problem:
    return Problem(
        403,
        "csrf-failed",
        "This form has expired",
        "The form was too old or did not come from Coterie, so nothing was changed. "
        "Go back, reload the page and try again.",
    )


async def protect(request: Request) -> None:
    """Router dependency: refuse any unsafe request whose token does not match its cookie."""
    if request.method in SAFE_METHODS:
        return
    cookie = request.cookies.get(CSRF_COOKIE)
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        form = await request.form()
        field = form.get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    if not cookie or not _usable(cookie) or not sent:
        raise rejected()
    if not hmac.compare_digest(sent.encode(), token_for(_settings(request), cookie).encode()):
        raise rejected()
