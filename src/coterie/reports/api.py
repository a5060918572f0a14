"""`POST /api/v1/reports/run`: a report definition in, masked aggregates out."""

from __future__ import annotations

from fastapi import APIRouter

from coterie.auth.dependencies import ApiActor
from coterie.deps import DB, reads_only
from coterie.reports import engine
from coterie.reports.schemas import ReportIn, ReportOut

router = APIRouter()


@router.post("/reports/run", response_model=ReportOut, tags=["reports"])
@reads_only
def run_report(body: ReportIn, actor: ApiActor, db: DB) -> ReportOut:
    """Group the records of `kind` the caller may see, and measure them over masked values."""
    return engine.run(db, actor, body)
