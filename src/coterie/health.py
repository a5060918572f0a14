"""Probes: `/livez` (the process answers), `/readyz` (it can serve: its database and its job
queue answer) and `/healthz` (the app and its database answer, as API.md has always said).

A liveness probe that asked the database would have an orchestrator restart every healthy app
process when the database blips, which cures nothing and turns an outage into a restart storm:
`/livez` asks nothing. Readiness is what takes a process out of a load balancer while a
dependency is away, and puts it back when it returns. `/healthz` keeps its documented meaning for
the monitors that already use it. The answers name the dependency that failed, never how it was
reached (no host, no URL, no driver message): those go to the log.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from coterie import __version__
from coterie.deps import DB
from coterie.errors import DATABASE_RETRY_AFTER_SECONDS
from coterie.kit.jobs import Dispatcher
from coterie.kit.problems import Problem

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])
OK = "ok"
UNAVAILABLE = "unavailable"


@router.get("/healthz", summary="200 when the app and its database answer")
def healthz(session: DB) -> JSONResponse:
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable", "version": __version__},
            status_code=503,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )
    return JSONResponse({"status": "ok", "database": "ok", "version": __version__})


@router.get("/livez", summary="200 while the process answers (liveness; asks no dependency)")
async def livez() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


def _database(engine: Engine) -> str:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        log.warning("readiness: the database does not answer: %s", getattr(exc, "orig", exc))
        return UNAVAILABLE
    return OK


def _job_queue(dispatcher: Dispatcher) -> str:
    try:
        dispatcher.ping()
    except Exception as exc:  # whatever the queue's client raises, the queue is not there
        log.warning("readiness: the job queue does not answer: %s: %s", type(exc).__name__, exc)
        return UNAVAILABLE
    return OK


def not_ready(checks: dict[str, str]) -> Problem:
    failed = [name.replace("_", " ") for name, state in checks.items() if state != OK]
    return Problem(
        503,
        "not-ready",
        "Service unavailable",
        f"Not ready: the {' and the '.join(failed)} {'does' if len(failed) == 1 else 'do'} not "
        "answer.",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        checks=checks,
    )


@router.get(
    "/readyz",
    summary="200 when the database and the job queue answer (readiness), else 503 naming them",
)
def readyz(request: Request) -> dict[str, Any]:
    checks = {"database": _database(request.app.state.engine)}
    dispatcher: Dispatcher | None = getattr(request.app.state, "jobs", None)
    if dispatcher is not None:
        checks["job_queue"] = _job_queue(dispatcher)
    if any(state != OK for state in checks.values()):
        raise not_ready(checks)
    return {"status": "ready", "checks": checks, "version": __version__}
