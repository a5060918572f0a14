"""Error handlers: every failure of an API route becomes RFC 9457 problem+json, never a bare
500; web pages get an HTML error page; an unexpected exception never costs the client its
keep-alive connection."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import (
    DataError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm.exc import StaleDataError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from coterie.kit.problems import PROBLEM_MEDIA_TYPE, Problem, version_mismatch

log = logging.getLogger(__name__)

# what machines read (the API, probes, the metrics scrape): problem+json, never an HTML page
MACHINE_PATHS = ("/api/", "/healthz", "/livez", "/readyz", "/metrics")
HTTP_SLUGS = {404: "not-found", 405: "method-not-allowed", 413: "payload-too-large"}
HTTP_TITLES = {404: "Not found", 405: "Method not allowed", 413: "Payload too large"}


def problem_response(problem: Problem, request: Request) -> Response:
    return JSONResponse(
        problem.body(instance=request.url.path),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=problem.headers,
    )


def _field_path(location: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in location)


def malformed_json(errors: list[dict[str, Any]] | None = None) -> Problem:
    return Problem(
        400,
        "malformed-json",
        "Malformed JSON",
        "The request body is not valid JSON.",
        errors=errors,
    )


def body_parse_problem(exc: StarletteHTTPException) -> Problem | None:
    """The malformed-JSON problem for what FastAPI reports as a generic "error parsing the body"
    (a 400 raised from the parser's own error): JSON nested deeper than the parser recurses, or
    bytes that are not UTF-8. None for any other HTTP error."""
    if exc.status_code == 400 and isinstance(exc.__cause__, (RecursionError, UnicodeDecodeError)):
        return malformed_json()
    return None


def validation_problem(exc: RequestValidationError) -> Problem:
    errors = [
        {"path": _field_path(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type")}
        for e in exc.errors()
    ]
    if any(e["type"] == "json_invalid" for e in errors):
        return malformed_json(errors)
    detail = "; ".join(f"{e['path']}: {e['message']}" for e in errors[:5])
    return Problem(422, "validation-error", "Invalid request", detail, errors=errors)


Responder = Callable[[Request, Problem], Response]


def responder(html_handler: Responder | None) -> Responder:
    """Problem+json on the API, the probes and /metrics; elsewhere `html_handler`'s page, if
    there is one."""

    def respond(request: Request, problem: Problem) -> Response:
        wants_html = not request.url.path.startswith(MACHINE_PATHS)
        if wants_html and html_handler is not None:
            return html_handler(request, problem)
        return problem_response(problem, request)

    return respond


def internal_error() -> Problem:
    return Problem(500, "internal-error", "Internal error", "Something went wrong on our side.")


def log_unhandled(request: Request) -> None:
    """Log the exception being handled, with its traceback (call from an `except` block)."""
    log.exception("unhandled error on %s %s", request.method, request.url.path)


class UnhandledErrorMiddleware:
    """Answers any exception no handler took with the 500 problem (or page), logged once here.

    Starlette's own last resort (ServerErrorMiddleware) sends the 500 and then re-raises, and
    uvicorn closes a connection whose application raised, so the client's next request on that
    keep-alive connection failed. Here nothing is re-raised once the 500 is sent. An exception
    after the response started is re-raised: the status is gone, and only closing the connection
    tells the client the body is incomplete (the server logs that one).
    """

    def __init__(self, app: ASGIApp, respond: Responder) -> None:
        self.app = app
        self.respond = respond

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            if started:
                raise
            request = Request(scope)
            log_unhandled(request)
            response = await run_in_threadpool(self.respond, request, internal_error())
            await response(scope, receive, send)


def install(app: FastAPI, *, html_handler: Responder | None = None) -> None:
    """Register handlers; `html_handler(request, problem)` renders errors of web pages. Handlers
    are plain functions: Starlette runs them in its thread pool, so rendering an error page
    (which may read the database for the signed-in user) never blocks the event loop."""
    respond = responder(html_handler)

    @app.exception_handler(Problem)
    def on_problem(request: Request, exc: Problem) -> Response:
        return respond(request, exc)

    @app.exception_handler(RequestValidationError)
    def on_validation(request: Request, exc: RequestValidationError) -> Response:
        return respond(request, validation_problem(exc))

    @app.exception_handler(StarletteHTTPException)
    def on_http(request: Request, exc: StarletteHTTPException) -> Response:
        if (parse_problem := body_parse_problem(exc)) is not None:
            return respond(request, parse_problem)
        slug = HTTP_SLUGS.get(exc.status_code, "http-error")
        title = HTTP_TITLES.get(exc.status_code, "Error")
        detail = str(exc.detail) if exc.detail else title
        return respond(
            request, Problem(exc.status_code, slug, title, detail, headers=dict(exc.headers or {}))
        )

    @app.exception_handler(IntegrityError)
    def on_integrity(request: Request, exc: IntegrityError) -> Response:
        # Services check uniqueness first; this answers the race where two requests both passed.
        log.info("integrity error on %s %s: %s", request.method, request.url.path, exc.orig)
        return respond(
            request,
            Problem(
                409,
                "conflict",
                "Conflict",
                "The change conflicts with data saved at the same moment; reload and try again.",
            ),
        )

    @app.exception_handler(StaleDataError)
    async def on_stale_row(request: Request, exc: StaleDataError) -> Response:
        # An ORM UPDATE/DELETE of a versioned row found another version (kit.conditional):
        # the row changed after this request read it, and the statement refused to overwrite.
        log.info("stale row on %s %s: %s", request.method, request.url.path, exc)
        return respond(
            request,
            version_mismatch("Someone changed this since you read it: read it again and retry."),
        )

    @app.exception_handler(DataError)
    def on_data_error(request: Request, exc: DataError) -> Response:
        # A value the database refuses (a NUL character on PostgreSQL, a number out of range)
        # that validation let through: the client's input, so a 422 rather than a 500.
        log.warning("data error on %s %s: %s", request.method, request.url.path, exc.orig)
        return respond(
            request,
            Problem(
                422,
                "unacceptable-value",
                "Invalid request",
                "A value in the request cannot be stored or compared (for example a NUL "
                "character or a number out of range).",
            ),
        )

    install_database_unavailable(app, respond)
    app.add_middleware(UnhandledErrorMiddleware, respond=respond)


# --- the database is unavailable --------------------------------------------------------------

DATABASE_RETRY_AFTER_SECONDS = 5
# PostgreSQL: connection exceptions, the server shutting down or starting, too many connections
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")
# SQLite: another connection holds the lock past the busy timeout; the file cannot be opened
_UNAVAILABLE_SQLITE_CODES = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN}


def database_unavailable(exc: SQLAlchemyError) -> bool:
    """Whether `exc` says the database cannot be reached or used right now (a connection
    refused or lost, the pool exhausted, a server shutting down, SQLite locked), rather than that
    it refused a statement."""
    if isinstance(exc, PoolTimeoutError):
        return True
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    if exc.connection_invalidated:  # the driver saw the connection die under a statement
        return True
    original = exc.orig
    if isinstance(original, sqlite3.Error):
        return (getattr(original, "sqlite_errorcode", 0) & 0xFF) in _UNAVAILABLE_SQLITE_CODES
    sqlstate = getattr(original, "sqlstate", None)
    if sqlstate:
        return str(sqlstate).startswith(_UNAVAILABLE_SQLSTATES)
    return exc.statement is None  # failed while connecting (refused, timed out, DNS)


def database_unavailable_problem() -> Problem:
    return Problem(
        503,
        "database-unavailable",
        "Service unavailable",
        "The database is not answering right now. Nothing was changed; try again in a few seconds.",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )


def install_database_unavailable(app: FastAPI, respond: Responder) -> None:
    """503 with Retry-After when the database is unavailable; other operational errors are
    unexpected (500, logged with their traceback)."""

    def on_database_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, SQLAlchemyError) and database_unavailable(exc):
            log.warning(
                "database unavailable on %s %s: %s",
                request.method,
                request.url.path,
                getattr(exc, "orig", None) or exc,
            )
            return respond(request, database_unavailable_problem())
        log_unhandled(request)
        return respond(request, internal_error())

    for error in (OperationalError, InterfaceError, PoolTimeoutError):
        app.add_exception_handler(error, on_database_error)
