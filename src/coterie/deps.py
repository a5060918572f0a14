"""FastAPI dependencies shared by every router: the database session, settings, client address,
and the media type of JSON request bodies."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from coterie.config import Settings
from coterie.db import writing_session
from coterie.kit.problems import Problem

log = logging.getLogger(__name__)
JSON_MEDIA_TYPE = "application/json"


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_READS_ONLY = "__coterie_reads_only__"
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def reads_only(endpoint: Endpoint) -> Endpoint:
    """Mark a route that never writes although its method says it may (a report run, a preview,
    an export by POST): its transactions begin as readers, and on SQLite never hold the write
    lock, which would stall every writer for as long as the report runs."""
    setattr(endpoint, _READS_ONLY, True)
    return endpoint


def _writes(request: Request) -> bool:
    if request.method in SAFE_METHODS:
        return False
    return not getattr(getattr(request.scope.get("route"), "endpoint", None), _READS_ONLY, False)


def get_db(request: Request) -> Iterator[Session]:
    """A session per request; the route commits, anything uncommitted is rolled back. Requests
    other than GET, HEAD and OPTIONS (and routes marked `reads_only`) write: their transactions
    take SQLite's write lock when they begin (`db.for_writes`)."""
    factory = request.app.state.session_factory
    session = writing_session(factory) if _writes(request) else factory()
    try:
        yield session
    finally:
        # This runs after the response is sent: raising here would only make the server drop
        # the client's keep-alive connection.
        try:
            session.rollback()
        except SQLAlchemyError as exc:  # the database went away since the route ran
            log.warning(
                "could not roll back the session of %s %s: %s",
                request.method,
                request.url.path,
                exc,
            )
        finally:
            session.close()


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def client_address(request: Request) -> str:
    """The client's IP address: the connecting peer's, or, when that peer is one of
    COTERIE_TRUSTED_PROXIES, the one it forwarded (uvicorn's ProxyHeadersMiddleware, installed
    by the app factory, rewrites the scope before anything reads it)."""
    host = request.client.host if request.client else ""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host[:64] or "unknown"  # not an IP (a test client, a Unix socket)


def is_json_media_type(content_type: str) -> bool:
    """application/json or application/<anything>+json, whatever its parameters (as FastAPI
    parses them)."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == JSON_MEDIA_TYPE or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


async def require_json_body(request: Request) -> None:
    """415 when a route that reads a JSON body receives a body of another media type (or none
    declared), instead of the framework's 422 about the body's shape. Routes without a body
    ignore the header."""
    if getattr(request.scope.get("route"), "body_field", None) is None:
        return
    content_type = request.headers.get("content-type")
    if content_type is not None and is_json_media_type(content_type):
        return
    if content_type is None and not await request.body():
        return  # no body at all: validation says the body is required
    accepted = {"POST": "Accept-Post", "PATCH": "Accept-Patch"}.get(request.method)
    raise Problem(
        415,
        "unsupported-media-type",
        "Unsupported media type",
        f"Send the request body as JSON, with the header Content-Type: {JSON_MEDIA_TYPE}.",
        accepted=[JSON_MEDIA_TYPE],
        headers={accepted: JSON_MEDIA_TYPE} if accepted else None,
    )


DB = Annotated[Session, Depends(get_db)]
AppSettings = Annotated[Settings, Depends(get_app_settings)]
ClientAddress = Annotated[str, Depends(client_address)]
