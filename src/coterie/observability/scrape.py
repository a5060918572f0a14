"""`/metrics`: the Prometheus scrape, and who may read it.

Metrics are not for the public: route names, traffic, error rates and the backlog tell an outsider
how the service is doing and when to hit it. With `COTERIE_METRICS_TOKEN` set, a scrape must send
it as a bearer token (compared in constant time), from wherever it comes. Without one, only a
request made directly on the loopback interface is answered: not one that came through a proxy
(it carries `Forwarded`, `X-Forwarded-For` or `X-Real-IP`), since a reverse proxy on the same host
would otherwise make every outside request look local. The route is not in the API description.
"""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import Request
from fastapi.responses import Response

from coterie.config import Settings
from coterie.kit.problems import Problem, forbidden
from coterie.observability.metrics import Metrics

PATH = "/metrics"
FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")


def token_required() -> Problem:
    return Problem(
        401,
        "unauthenticated",
        "Authentication required",
        "Send the metrics token (COTERIE_METRICS_TOKEN) as `Authorization: Bearer <token>`.",
        headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
    )


def _bearer(request: Request) -> str:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


def _direct_from_loopback(request: Request) -> bool:
    if any(name in request.headers for name in FORWARDING_HEADERS):
        return False
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_access(request: Request, settings: Settings) -> None:
    """Raise the 401 or 403 problem unless `request` may read the metrics."""
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else ""
    if token:
        if not hmac.compare_digest(_bearer(request).encode(), token.encode()):
            raise token_required()
    elif not _direct_from_loopback(request):
        raise forbidden(
            "Metrics are served only to requests made on the loopback interface; set "
            "COTERIE_METRICS_TOKEN to scrape them from elsewhere."
        )


def metrics(request: Request) -> Response:
    """The metrics in Prometheus's text format (OpenMetrics when the scraper asks for it)."""
    check_access(request, request.app.state.settings)
    collected: Metrics = request.app.state.metrics
    body, content_type = collected.exposition(request.headers.get("accept"))
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})
