"""Resolving the caller: bearer tokens for the API, the session cookie for web pages."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from coterie.auth import service
from coterie.auth.principal import Actor
from coterie.deps import DB
from coterie.kit.problems import Problem
from coterie.models.vocabulary import TokenKind

log = logging.getLogger(__name__)
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
    _note_use(session, actor)
    return actor


def optional_web_actor(request: Request, session: DB) -> Actor | None:
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    actor = service.authenticate(session, secret, {TokenKind.SESSION})
    if actor is not None:
        _note_use(session, actor)
    return actor


def _note_use(session: Session, actor: Actor) -> None:
    """Persist when the token was last used, before the route's own unit of work, in a
    transaction of its own that begins with the UPDATE: on SQLite a transaction that read and
    then writes fails if another writer committed in between, one that starts by writing waits
    for the write lock. Best effort: the next request notes it if this one cannot."""
    if not service.use_to_note(actor.token):
        return
    session.commit()  # ends the read that authenticated
    try:
        service.note_use(session, actor.token)
        session.commit()
    except OperationalError as exc:  # bookkeeping: a locked database must not fail the request
        session.rollback()
        log.info("could not note the use of token %s: %s", actor.token.prefix, exc.orig)


ApiActor = Annotated[Actor, Depends(api_actor)]
WebActor = Annotated[Actor | None, Depends(optional_web_actor)]
