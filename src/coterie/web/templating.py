"""Rendering pages: the Jinja2 environment, the context every page shares, flash messages.

Every HTML response of the web shell goes through `render` (or `redirect`), which adds the
signed-in actor and their company, the CSRF token, the "hide private fields" flag, pending
flash messages, and the security headers of an HTML page. `render_fragment` renders a panel
template with the same shared context into a page being built (the record page puts its
workflow and activity panels in its first response this way).

The filters every template uses to show values as words: `label` (a vocabulary key as a
label), `date` / `datetime` (one format everywhere: "21 Jan 2027", in the viewer's time zone),
`possessive` ("Acme's", "Orbit Analytics'").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import Markup

from coterie import __version__
from coterie.auth import preferences
from coterie.auth.principal import Actor
from coterie.config import Settings
from coterie.kit.words import file_size, possessive
from coterie.models.vocabulary import Role
from coterie.web import csrf

TEMPLATES_DIR = Path(__file__).parent / "templates"
FLASH_COOKIE = "coterie_flash"
FlashKind = Literal["success", "error", "info"]
_MAX_FLASHES = 5
_MAX_FLASH_LENGTH = 400

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

# Display names of vocabulary values whose plain title-casing would read wrong.
LABELS = {
    "isv": "ISV",
    "si": "Systems integrator",
    "msp": "MSP",
    "hyperscaler": "Hyperscaler",
    "emea": "EMEA",
    "apac": "APAC",
    "it-services": "IT services",
    "north-america": "North America",
    "latin-america": "Latin America",
    "financial-services": "Financial services",
    "public-sector": "Public sector",
    "1-50": "1-50 employees",
    "51-200": "51-200 employees",
    "201-1000": "201-1,000 employees",
    "1001-5000": "1,001-5,000 employees",
    "5001+": "5,001+ employees",
}


_KEY = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")


def label(value: object) -> str:
    """A vocabulary key as words ("it-services" -> "IT services", "partner_approval" ->
    "Partner approval"); text that is not a key (spaces, capitals) is shown as it is."""
    text = str(value)
    if text in LABELS:
        return LABELS[text]
    if not _KEY.fullmatch(text):
        return text
    return text.replace("-", " ").replace("_", " ").capitalize()


def _zone(context: Any) -> ZoneInfo:
    prefs = context.get("prefs")
    try:
        return ZoneInfo(prefs.timezone if prefs is not None else "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


@jinja2.pass_context
def format_datetime(context: Any, value: datetime | None) -> str:
    if value is None:
        return "—"
    local = value.astimezone(_zone(context))
    return f"{local.day} {local:%b %Y, %H:%M}"


@jinja2.pass_context
def format_date(context: Any, value: datetime | date | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(_zone(context)).date()
    return f"{value.day} {value:%b %Y}"


def external_url(value: str | None) -> str | None:
    """`value` if it is an http(s) URL safe to put in a link, else None (no javascript: links)."""
    if not value:
        return None
    parts = urlsplit(value.strip())
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        return None
    return value.strip()


def options(members: Iterable[object]) -> list[tuple[str, str]]:
    """`(value, label)` pairs of a vocabulary, for a select or a set of checkboxes."""
    return [(str(member), label(member)) for member in members]


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["label"] = label
    env.filters["datetime"] = format_datetime
    env.filters["date"] = format_date
    env.filters["external_url"] = external_url
    env.filters["options"] = options
    env.filters["possessive"] = possessive
    env.filters["file_size"] = file_size
    env.globals["asset_version"] = __version__
    return env


templates = Jinja2Templates(env=_environment())


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _flash_serializer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(_settings(request).secret(), salt="coterie.flash")


def _pending_flashes(request: Request) -> list[tuple[str, str]]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return []
    try:
        loaded = _flash_serializer(request).loads(raw)
    except BadSignature:
        return []
    if not isinstance(loaded, list):
        return []
    return [
        (str(item[0]), str(item[1])) for item in loaded if isinstance(item, list) and len(item) == 2
    ][:_MAX_FLASHES]


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def current_path(request: Request) -> str:
    """The page the user is on: for an htmx request, the page that sent it."""
    if is_htmx(request):
        parts = urlsplit(request.headers.get("HX-Current-URL", ""))
        page = f"{parts.path}?{parts.query}" if parts.query else parts.path
        if page:
            return page
    path = request.url.path
    return f"{path}?{request.url.query}" if request.url.query else path


def base_context(request: Request, actor: Actor | None) -> dict[str, Any]:
    prefs = preferences.read(actor.user.preferences) if actor is not None else None
    return {
        "request": request,
        "actor": actor,
        "user": actor.user if actor is not None else None,
        "company": actor.company if actor is not None else None,
        "prefs": prefs,
        "hide_private": bool(prefs and prefs.hide_private_fields),
        "can_manage": actor is not None and actor.has_role(Role.MANAGER),
        "is_admin": actor is not None and actor.has_role(Role.ADMIN),
        "csrf_token": csrf.form_token(request),
        "current_path": current_path(request),
        "errors": {},
        "values": {},
    }


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    actor: Actor | None = None,
) -> HTMLResponse:
    """Render `template` with the shared context; `actor` defaults to the page's actor."""
    if actor is None:
        actor = getattr(request.state, "actor", None)
    flashes = _pending_flashes(request)
    full = base_context(request, actor) | {"flashes": flashes} | (context or {})
    response = templates.TemplateResponse(
        request, template, full, status_code=status_code, headers=PAGE_HEADERS | (headers or {})
    )
    csrf.set_cookie_if_new(request, response)
    if request.cookies.get(FLASH_COOKIE):
        response.delete_cookie(FLASH_COOKIE, path="/", httponly=True, samesite="lax")
    return response


def render_fragment(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    actor: Actor | None = None,
) -> Markup:
    """`template` rendered to HTML with the shared context plus `context`, to put in a page.

    The fragment gets a context of its own (its `errors` and `values` never mix with the page's),
    as it would when its route answers an htmx request.
    """
    if actor is None:
        actor = getattr(request.state, "actor", None)
    full = base_context(request, actor) | {"flashes": []} | context
    return Markup(templates.env.get_template(template).render(full))  # noqa: S704


def redirect(
    request: Request, url: str, message: str | None = None, kind: FlashKind = "success"
) -> RedirectResponse:
    """POST-redirect-GET: a 303 to `url`, carrying `message` to the next page that renders."""
    response = RedirectResponse(url, status_code=303)
    if message:
        flashes = [*_pending_flashes(request), (kind, message[:_MAX_FLASH_LENGTH])]
        value = _flash_serializer(request).dumps([list(f) for f in flashes[-_MAX_FLASHES:]])
        response.set_cookie(
            FLASH_COOKIE,
            value,
            max_age=300,
            path="/",
            httponly=True,
            samesite="lax",
            secure=_settings(request).secure_cookies,
        )
    csrf.set_cookie_if_new(request, response)
    return response


def navigate(
    request: Request, url: str, message: str, *, htmx_status: int = 200
) -> RedirectResponse:
    """`redirect`, or for htmx an `HX-Redirect` the whole page follows (with `htmx_status`)
    instead of a 303 the fragment's request would follow alone."""
    response = redirect(request, url, message)
    if is_htmx(request):
        response.status_code = htmx_status
        del response.headers["location"]
        response.headers["HX-Redirect"] = url
    return response
