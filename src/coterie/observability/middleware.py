"""One ASGI middleware for every HTTP request: its id, its metrics and its access-log line.

- The request id: the incoming `X-Request-ID` when well-formed (`coterie.kit.request_ids`), else
  a new one; bound for the request's log lines and problem bodies, returned in `X-Request-ID`.
- The metrics: latency and count by route *template* (`/api/v1/companies/{company_id}`, never
  the raw path; a path no route matched is `unmatched`), so their number of series is bounded by
  the app's routes whatever clients send; requests in flight.
- The access log (`coterie.access`, replacing uvicorn's): method, path without its query (which
  can hold invitation and reset tokens), route, status, duration_ms, client address. Probes and
  scrapes that succeed are logged at DEBUG, so they do not drown the requests of people.

It sits inside the proxy-headers middleware (the client address is the real one) and outside the
error handlers (a 503 or 500 they answer is timed and counted like any other response).
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from fastapi.routing import iter_route_contexts
from starlette.datastructures import Headers
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from coterie.kit import request_ids
from coterie.observability.metrics import UNMATCHED_ROUTE, Metrics, method_label

access_log = logging.getLogger("coterie.access")
QUIET_ROUTES = frozenset({"/healthz", "/livez", "/readyz", "/metrics"})
_HEADER = request_ids.HEADER.lower().encode()


class RouteTemplates:
    """The full path template of the route that answered a request.

    FastAPI puts on the scope the route as its router declared it (`/companies/{company_id}`),
    without the prefixes of the routers that include it; the app's route contexts
    (`fastapi.routing.iter_route_contexts`, what the API description is built from) give the full
    template. Indexed at the first request, and again when a route appears that the index lacks.
    """

    def __init__(self) -> None:
        self._templates: dict[int, list[tuple[re.Pattern[str], str]]] = {}

    def _index(self, app: Any) -> None:
        templates: dict[int, list[tuple[re.Pattern[str], str]]] = {}
        for context in iter_route_contexts(getattr(app, "routes", ())):
            template = context.path_format
            if template:
                regex = compile_path(template)[0]
                templates.setdefault(id(context.original_route), []).append((regex, template))
        self._templates = templates

    def of(self, scope: Scope) -> str:
        route = scope.get("route")
        if route is None:
            return UNMATCHED_ROUTE
        candidates = self._templates.get(id(route))
        if candidates is None:
            self._index(scope.get("app"))
            candidates = self._templates.setdefault(id(route), [])
        if len(candidates) == 1:
            return candidates[0][1]
        path = scope["path"]
        for regex, template in candidates:  # one route included under several prefixes
            if regex.match(path):
                return template
        own = getattr(route, "path_format", None)
        return own if isinstance(own, str) and own else UNMATCHED_ROUTE


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = RouteTemplates()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming = Headers(scope=scope).get(request_ids.HEADER)
        request_id = request_ids.accepted_or_new(incoming)
        encoded_id = request_id.encode()
        status = 500  # unless a response starts: an exception no handler answered

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != _HEADER]
                message["headers"] = [*headers, (_HEADER, encoded_id)]
            await send(message)

        in_flight = self.metrics.http.in_flight
        in_flight.inc()
        with request_ids.bound(request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                seconds = time.perf_counter() - started
                route = self.routes.of(scope)
                self.metrics.http.observe(method_label(scope["method"]), route, status, seconds)
                in_flight.dec()  # after the count: a scrape seeing none in flight sees them all
                self.metrics.after_request()
                _log_access(scope, route, status, seconds)


def logged_path(scope: Scope) -> str:
    """The path as the client sent it, percent-escapes kept (a decoded `%0A` would split the line),
    without the query."""
    raw = scope.get("raw_path")
    if not isinstance(raw, bytes):
        return str(scope["path"]).encode("unicode_escape").decode("ascii")
    return raw.split(b"?", 1)[0].decode("ascii", "backslashreplace")


def _log_access(scope: Scope, route: str, status: int, seconds: float) -> None:
    level = logging.DEBUG if route in QUIET_ROUTES and status < 400 else logging.INFO
    if not access_log.isEnabledFor(level):
        return
    client = scope.get("client")
    address = client[0] if client else "-"
    method, path = scope["method"], logged_path(scope)
    duration_ms = round(seconds * 1000, 2)
    access_log.log(
        level,
        '%s "%s %s" %d %.2fms',
        address,
        method,
        path,
        status,
        duration_ms,
        extra={
            "method": method,
            "path": path,
            "route": route,
            "status": status,
            "duration_ms": duration_ms,
            "client": address,
        },
    )
