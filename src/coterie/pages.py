"""The web shell: mounts static assets and the domains' page routers; renders HTML errors.

Domains own their pages and list their page routers (`coterie.kit.routing`); this module wires
them into the app and turns any `Problem` raised on a non-API path into an HTML error page.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from html import escape
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from coterie.auth import service
from coterie.auth.dependencies import SESSION_COOKIE
from coterie.auth.principal import Actor
from coterie.kit import request_ids
from coterie.kit.problems import Problem
from coterie.models.vocabulary import TokenKind
from coterie.web.forms import STALE_FORM, is_stale
from coterie.web.sessions import LoginRequiredError, login_redirect
from coterie.web.templating import PAGE_HEADERS, is_htmx, render

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "web" / "static"


def install(app: FastAPI, page_routers: Iterable[APIRouter]) -> None:
    for router in page_routers:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_exception_handler(LoginRequiredError, login_redirect)


def _actor_for(request: Request, session: Session) -> Actor | None:
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    try:
        return service.authenticate(session, secret, {TokenKind.SESSION})
    except SQLAlchemyError:
        return None


def render_problem(request: Request, problem: Problem) -> Response:
    """An HTML page (or, for htmx, an alert fragment) saying what went wrong."""
    if is_stale(problem):  # a form older than the data: say so, not "version 3, not 2"
        problem = Problem(problem.status, problem.slug, "Not saved", STALE_FORM)
    if is_htmx(request):
        request.state.actor = None
        return render(
            request,
            "_problem_alert.html",
            {"problem": problem, "request_id": request_ids.current()},
            status_code=problem.status,
            headers={"HX-Retarget": "#flashes", "HX-Reswap": "innerHTML"},
        )
    session: Session = request.app.state.session_factory()
    try:
        # a 503 is the database not answering: asking it who is signed in would only wait
        request.state.actor = None if problem.status == 503 else _actor_for(request, session)
        return render(
            request,
            "error.html",
            {"problem": problem, "request_id": request_ids.current()},
            status_code=problem.status,
            headers=dict(problem.headers),
        )
    except Exception:  # the error page itself must never fail
        log.exception("could not render the error page for %s", request.url.path)
        body = (
            f"<!doctype html><title>{escape(problem.title)}</title><h1>{escape(problem.title)}</h1>"
        )
        return HTMLResponse(body, status_code=problem.status, headers=PAGE_HEADERS)
    finally:
        session.rollback()
        session.close()
