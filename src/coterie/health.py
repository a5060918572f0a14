"""`/healthz`: the app answers and its database answers."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from coterie import __version__
from coterie.deps import DB
from coterie.errors import DATABASE_RETRY_AFTER_SECONDS

router = APIRouter(tags=["health"])


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
