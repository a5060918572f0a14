"""Error handlers: every failure of an API route becomes RFC 9457 problem+json, never a bare 500."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from coterie.kit.problems import PROBLEM_MEDIA_TYPE, Problem

log = logging.getLogger(__name__)

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


def validation_problem(exc: RequestValidationError) -> Problem:
    errors = [
        {"path": _field_path(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type")}
        for e in exc.errors()
    ]
    if any(e["type"] == "json_invalid" for e in errors):
        return Problem(
            400,
            "malformed-json",
            "Malformed JSON",
            "The request body is not valid JSON.",
            errors=errors,
        )
    detail = "; ".join(f"{e['path']}: {e['message']}" for e in errors[:5])
    return Problem(422, "validation-error", "Invalid request", detail, errors=errors)


def install(app: FastAPI, *, html_handler: Any = None) -> None:
    """Register handlers; `html_handler(request, problem)` renders errors of web pages."""

    def respond(request: Request, problem: Problem) -> Response:
        wants_html = not request.url.path.startswith(("/api/", "/healthz"))
        if wants_html and html_handler is not None:
            response: Response = html_handler(request, problem)
            return response
        return problem_response(problem, request)

    @app.exception_handler(Problem)
    async def on_problem(request: Request, exc: Problem) -> Response:
        return respond(request, exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> Response:
        return respond(request, validation_problem(exc))

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> Response:
        slug = HTTP_SLUGS.get(exc.status_code, "http-error")
        title = HTTP_TITLES.get(exc.status_code, "Error")
        detail = str(exc.detail) if exc.detail else title
        return respond(
            request, Problem(exc.status_code, slug, title, detail, headers=dict(exc.headers or {}))
        )

    @app.exception_handler(IntegrityError)
    async def on_integrity(request: Request, exc: IntegrityError) -> Response:
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
            Problem(
                412,
                "version-mismatch",
                "Precondition failed",
                "Someone changed this since you read it: read it again and retry.",
            ),
        )

    @app.exception_handler(DataError)
    async def on_data_error(request: Request, exc: DataError) -> Response:
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

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return respond(
            request,
            Problem(500, "internal-error", "Internal error", "Something went wrong on our side."),
        )
