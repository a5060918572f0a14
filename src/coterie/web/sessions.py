"""Web sign-in state: the session cookie (issue, clear), the page guards and safe redirects.

A web session is an `AuthToken` of kind `session`; the browser holds its secret in the
`coterie_session` cookie (HttpOnly, SameSite=Lax, Secure behind HTTPS). Pages that need a user
depend on `PageActor`, which sends anonymous visitors to `/login?next=...`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from coterie.auth import service
from coterie.auth.dependencies import SESSION_COOKIE, WebActor
from coterie.auth.principal import Actor
from coterie.config import Settings
from coterie.models import User
from coterie.models.vocabulary import TokenKind
from coterie.web import csrf
from coterie.web.templating import redirect

_MAX_NEXT_LENGTH = 2000


def safe_next(value: str | None, default: str = "/") -> str:
    """`value` if it is a path on this site, else `default`: never an open redirect."""
    if not value or len(value) > _MAX_NEXT_LENGTH:
        return default
    if not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(ch == "\\" or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def login_url(next_path: str | None) -> str:
    target = safe_next(next_path, "")
    if not target or target == "/":
        return "/login"
    return "/login?" + urlencode({"next": target})


class LoginRequiredError(Exception):
    """Raised by page guards when nobody is signed in; answered with a redirect to /login."""

    def __init__(self, next_path: str | None) -> None:
        super().__init__("login required")
        self.next_path = next_path


def login_redirect(request: Request, exc: Exception) -> Response:
    next_path = exc.next_path if isinstance(exc, LoginRequiredError) else None
    url = login_url(next_path)
    if request.headers.get("HX-Request"):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def _remember(request: Request, actor: Actor | None) -> Actor | None:
    request.state.actor = actor
    return actor


def page_actor_or_none(request: Request, actor: WebActor) -> Actor | None:
    """The signed-in user, if any; templates see it too."""
    return _remember(request, actor)


def page_actor(request: Request, actor: WebActor) -> Actor:
    """The signed-in user; anonymous visitors are redirected to the login page."""
    if actor is None:
        path = request.url.path
        if request.url.query:
            path = f"{path}?{request.url.query}"
        raise LoginRequiredError(path if request.method == "GET" else None)
    _remember(request, actor)
    return actor


MaybeActor = Annotated[Actor | None, Depends(page_actor_or_none)]
PageActor = Annotated[Actor, Depends(page_actor)]


def start(
    request: Request, response: Response, session: Session, settings: Settings, user: User
) -> None:
    """Sign `user` in: a new session token, its cookie, and a fresh CSRF cookie.

    The caller commits. Any session the browser already had is ended first.
    """
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:
        current = service.authenticate(session, previous, {TokenKind.SESSION})
        if current is not None:
            service.end_token(session, current.token)
    ttl = timedelta(hours=settings.session_ttl_hours)
    _token, secret = service.issue_token(session, user, TokenKind.SESSION, name="web", ttl=ttl)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(ttl.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    csrf.rotate(request)
    csrf.set_cookie_if_new(request, response)


def signed_in(
    request: Request,
    session: Session,
    settings: Settings,
    user: User,
    url: str,
    message: str | None = None,
) -> Response:
    """Sign `user` in and go to `url` (with `message`); commits the unit of work that signed
    them in (a login, a sign-up, an accepted invitation) together with the session token."""
    response = redirect(request, url, message)
    start(request, response, session, settings, user)
    session.commit()
    return response


def clear(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=settings.secure_cookies
    )
