"""Resolving the caller: bearer tokens for the API, the session cookie for web pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from coterie.auth import service
from coterie.auth.principal import Actor
from coterie.deps import DB
from coterie.kit.problems import Problem
from coterie.models.vocabulary import TokenKind

SESSION_COOKIE = "coterie_session"
API_TOKEN_KINDS = {TokenKind.PERSONAL, TokenKind.LOGIN}

bearer_scheme = HTTPBearer(auto_error=False, description="A login token or personal API token.")


def unauthenticated() -> Problem:
    return Problem(
        401,
        "unauthenticated",
        "Authentication required",
        "Send a valid token as `Authorization: Bearer <token>`.",
        headers={"WWW-Authenticate": "Bearer"},
    )


def api_actor(
    session: DB,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Actor:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthenticated()
    actor = service.authenticate(session, credentials.credentials, API_TOKEN_KINDS)
    if actor is None:
        raise unauthenticated()
    if session.dirty:
        session.commit()  # persists last_used_at before the route's own unit of work
    return actor


def optional_web_actor(request: Request, session: DB) -> Actor | None:
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    actor = service.authenticate(session, secret, {TokenKind.SESSION})
    if actor is not None and session.dirty:
        session.commit()
    return actor


ApiActor = Annotated[Actor, Depends(api_actor)]
WebActor = Annotated[Actor | None, Depends(optional_web_actor)]
