"""The application factory: settings, database, API routers, web pages, middleware, errors."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from coterie import __version__, errors, health, openapi
from coterie.activity import api as activity_api
from coterie.audit import api as audit_api
from coterie.auth import api as auth_api
from coterie.authz import guard as authz_guard
from coterie.authz import rls
from coterie.config import Settings, get_settings
from coterie.cosell.pipeline import api as leads_api
from coterie.cosell.planning import api as plans_api
from coterie.cosell.review import api as review_api
from coterie.db import make_engine, make_session_factory
from coterie.deps import require_json_body
from coterie.kit.limits import MaxBodySizeMiddleware
from coterie.kit.text_input import refuse_unstorable_text
from coterie.mail.delivery import install_outbox
from coterie.migrate import ensure_migrated
from coterie.network import api as network_api
from coterie.policies import api as policies_api
from coterie.records import api as records_api
from coterie.records import participants_api, search_api
from coterie.reports import api as reports_api
from coterie.reports.exports import api as report_exports_api
from coterie.reports.saved import api as saved_reports_api
from coterie.web import pages as web_pages
from coterie.workflows import api as workflows_api

API_PREFIX = "/api/v1"


def _interactive_docs() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=f"{API_PREFIX}/openapi.json",
        title="Coterie API",
        swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
        swagger_favicon_url="/static/favicon.svg",
    )


def create_app(settings: Settings | None = None, *, check_migrations: bool = True) -> FastAPI:
    settings = settings or get_settings()
    engine = make_engine(settings.resolved_database_url)
    if check_migrations:
        ensure_migrated(engine)
        rls.check_enforced(engine)  # logs a warning when PostgreSQL would skip the policies
    session_factory = make_session_factory(engine)
    install_outbox(session_factory, settings)
    authz_guard.install(session_factory)
    rls.install(session_factory)

    app = FastAPI(
        title="Coterie API",
        version=__version__,
        description="The shared system of record for partner ecosystems.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served below with Swagger UI from our own static files, not a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = session_factory

    # a JSON body or nothing (415); no NUL, no lone surrogate in a body or query: 422 (pages
    # clean their own form text)
    api = APIRouter(
        prefix=API_PREFIX,
        dependencies=[Depends(require_json_body), Depends(refuse_unstorable_text)],
    )
    api.include_router(auth_api.router)
    api.include_router(network_api.router)
    api.include_router(audit_api.router)
    api.include_router(leads_api.router)  # before the records: /leads/nominations is no record
    api.include_router(report_exports_api.router)  # CSV/XLSX exports and QBR decks
    api.include_router(reports_api.router)  # before the records: /reports is no record kind
    api.include_router(saved_reports_api.router)  # saved reports and dashboards
    api.include_router(records_api.router)
    api.include_router(participants_api.router)
    api.include_router(search_api.router)
    api.include_router(policies_api.router)
    api.include_router(plans_api.router)
    api.include_router(review_api.router)
    api.include_router(workflows_api.router)
    api.include_router(activity_api.router)
    app.include_router(api)
    app.include_router(health.router)
    app.add_api_route(f"{API_PREFIX}/docs", _interactive_docs, include_in_schema=False)
    web_pages.install(app)

    openapi.install(app)
    app.add_middleware(MaxBodySizeMiddleware, max_bytes=settings.max_request_bytes)
    errors.install(app, html_handler=web_pages.render_problem)  # outside the size limit
    if settings.trusted_proxy_list:  # outermost: everything after sees the real client
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxy_list)
    return app
