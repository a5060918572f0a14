"""The OpenAPI description, completed with the problems each operation can answer.

FastAPI documents a route's success response and a 422 in its own validation shape. Coterie
answers every failure as RFC 9457 problem+json (`coterie.errors`), so this module replaces the
422 with the `Problem` schema and adds, per operation, the problems it can return: 401 and 403
when it needs a caller, 404 when a path names something, 409 for writes, 412 and 428 where it
takes `If-Match`, 400, 413 and 415 where it reads a body, 429 where login throttling applies,
and 503 everywhere (the database is away). Integrators and the schemathesis run in the tests
(`tests/test_api_fuzz.py`) hold the API to this description.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from coterie.kit.problems import PROBLEM_MEDIA_TYPE

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `type` is stable (`/problems/<slug>`)",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {
            "type": "string",
            "description": "The request's id, also in its X-Request-ID header and in the "
            "server's log lines: quote it when reporting a problem",
        },
        "errors": {
            "type": "array",
            "description": "Each offending field: its path (e.g. body.fields.amount) and why",
            "items": {
                "type": "object",
                "required": ["path", "message"],
                "properties": {
                    "path": {"type": "string"},
                    "message": {"type": "string"},
                    "type": {"type": ["string", "null"]},
                },
            },
        },
    },
}
MEANINGS = {
    400: "Malformed request (e.g. a body that is not JSON, or a filter on a field you cannot see)",
    401: "No valid credentials",
    403: "Not allowed for your role or company",
    404: "Not found, or not visible to you",
    409: "Conflicts with the current state",
    412: "The version you sent (If-Match) is stale",
    413: "Request body too large",
    415: "Unsupported content type: send application/json",
    422: "Invalid request: `errors` names each offending field path",
    428: "If-Match is required: send the version (ETag) you read",
    429: "Too many attempts: wait for Retry-After",
    503: "The database (on /readyz: or the job queue) is unavailable: retry after Retry-After",
}
WRITES = {"post", "put", "patch", "delete"}
THROTTLED = ("/auth/token", "/signup", "/password-reset")
UNAUTHENTICATED = (
    "/auth/token",
    "/signup",
    "/password-reset",
    "/invitations/accept",
    "/healthz",
    "/livez",
    "/readyz",
)


def _statuses(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    parameters = operation.get("parameters", [])
    statuses = {422, 503}
    if not path.endswith(UNAUTHENTICATED):
        statuses |= {401, 403}
    if any(p.get("in") == "path" or p.get("name", "").endswith("_id") for p in parameters):
        statuses.add(404)  # a path, or a query parameter, names something
    if method in WRITES:
        statuses |= {403, 404, 409}
    if "requestBody" in operation:
        statuses |= {400, 413, 415}
    if any(p.get("in") == "query" for p in parameters):
        statuses.add(400)
    if any(p.get("in") == "header" and p.get("name", "").lower() == "if-match" for p in parameters):
        statuses |= {412, 428}
    if path.endswith(THROTTLED):
        statuses.add(429)
    if path.endswith("/auth/token"):
        statuses.add(401)  # wrong e-mail or password
    return statuses


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """Document the problem responses of every operation (in place; returns the document)."""
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    problem = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status in sorted(_statuses(path, method, operation)):
                response = responses.setdefault(str(status), {"description": MEANINGS[status]})
                response["content"] = problem
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return document


def install(app: FastAPI) -> None:
    """Serve the completed description at the app's `openapi_url` (built once, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
