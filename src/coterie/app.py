"""The application factory: settings, database, API routers, web pages, middleware, errors."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from coterie import __version__, errors, health, openapi, wiring
from coterie import pages as web_pages
from coterie.account.routes import ROUTES as ACCOUNT
from coterie.activity.routes import ROUTES as ACTIVITY
from coterie.attachments import api as attachments_api
from coterie.attachments.routes import ROUTES as ATTACHMENTS
from coterie.auth.routes import ROUTES as AUTH
from coterie.authz import guard as authz_guard
from coterie.authz import rls
from coterie.company_export.routes import ROUTES as COMPANY_EXPORT
from coterie.config import Settings, get_settings
from coterie.cosell.routes import ROUTES as COSELL
from coterie.db import make_engine, make_session_factory
from coterie.deps import require_json_body
from coterie.funds import claim_files as fund_claim_files
from coterie.funds.routes import ROUTES as FUNDS
from coterie.home.routes import ROUTES as HOME
from coterie.invites.routes import ROUTES as INVITES
from coterie.kit.limits import MaxBodySizeMiddleware
from coterie.kit.routing import DomainRoutes, api_routers, page_routers
from coterie.kit.text_input import refuse_unstorable_text
from coterie.migrate import ensure_migrated
from coterie.network.routes import ROUTES as NETWORK
from coterie.observability import scrape
from coterie.observability.backlog import BacklogCollector, read_outbox
from coterie.observability.metrics import Metrics
from coterie.observability.middleware import ObservabilityMiddleware
from coterie.policies.routes import ROUTES as POLICIES
from coterie.records.routes import ROUTES as RECORDS
from coterie.reports.routes import ROUTES as REPORTS
from coterie.sync.imports.routes import ROUTES as IMPORTS
from coterie.sync.inbox_routes import ROUTES as SYNC_INBOX
from coterie.sync.routes import ROUTES as SYNC
from coterie.worker.queue import Jobs
from coterie.workflows.routes import ROUTES as WORKFLOWS

API_PREFIX = "/api/v1"
# The domains served, each with its own routers (`coterie.kit.routing`). Their order is only the
# order of the API description; no match depends on it (tests/test_routes.py mounts them reversed).
DOMAINS: tuple[DomainRoutes, ...] = (
    AUTH,
    ACCOUNT,
    NETWORK,
    HOME,
    INVITES,
    COSELL,
    FUNDS,
    REPORTS,
    RECORDS,
    POLICIES,
    WORKFLOWS,
    ACTIVITY,
    ATTACHMENTS,
    COMPANY_EXPORT,
    IMPORTS,
    SYNC,
    SYNC_INBOX,
)


def _interactive_docs() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=f"{API_PREFIX}/openapi.json",
        title="Coterie API",
        swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
        swagger_favicon_url="/static/favicon.svg",
    )


def create_app(settings: Settings | None = None, *, check_migrations: bool = True) -> FastAPI:
    wiring.install()  # records' hooks: activity and workflows subscribe
    settings = settings or get_settings()
    engine = make_engine(settings.resolved_database_url)
    if check_migrations:
        ensure_migrated(engine)
        rls.check_enforced(engine)  # logs a warning when PostgreSQL would skip the policies
    session_factory = make_session_factory(engine)
    jobs = Jobs(settings, session_factory)
    jobs.install()  # the outbox's wake-ups reach the workers once a transaction commits
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
    app.state.jobs = jobs
    # the job queue's dispatcher (`app.state.jobs`, coterie.kit.jobs.Dispatcher) is read at each
    # scrape, so the worker package can install it after the app is built
    backlog = BacklogCollector(
        engine, jobs=lambda: getattr(app.state, "jobs", None), outbox=read_outbox
    )
    app.state.metrics = metrics = Metrics(engine, scrape_collectors=[backlog])

    # a JSON body or nothing (415); no NUL, no lone surrogate in a body or query: 422 (pages
    # clean their own form text)
    api = APIRouter(
        prefix=API_PREFIX,
        dependencies=[Depends(require_json_body), Depends(refuse_unstorable_text)],
    )
    for router in api_routers(DOMAINS):
        api.include_router(router)
    app.include_router(api)
    app.include_router(health.router)
    app.add_api_route(scrape.PATH, scrape.metrics, include_in_schema=False)
    app.add_api_route(f"{API_PREFIX}/docs", _interactive_docs, include_in_schema=False)
    web_pages.install(app, page_routers(DOMAINS))

    openapi.install(app)
    app.add_middleware(
        MaxBodySizeMiddleware,
        max_bytes=settings.max_request_bytes,
        # file uploads: the file's own limit is checked by the use case, with a clear problem
        larger=[
            (path, attachments_api.upload_body_limit(settings))
            for path in (attachments_api.UPLOAD_PATH, fund_claim_files.UPLOAD_PATH)
        ],
    )
    errors.install(app, html_handler=web_pages.render_problem)  # outside the size limit
    # outside the error handlers: what they answer is timed, counted, logged with the request id
    app.add_middleware(ObservabilityMiddleware, metrics=metrics)
    if settings.trusted_proxy_list:  # outermost: everything after sees the real client
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxy_list)
    return app
