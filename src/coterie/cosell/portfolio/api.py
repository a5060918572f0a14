"""The solutions portfolio route: `GET /api/v1/solutions/portfolio` (registered before the
generic record routes, which would read "portfolio" as a record id)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from coterie.auth.dependencies import ApiActor
from coterie.cosell.portfolio import rows
from coterie.cosell.portfolio.schemas import PortfolioOut
from coterie.deps import DB

router = APIRouter(tags=["solutions"])


@router.get(
    "/solutions/portfolio",
    response_model=PortfolioOut,
    summary="Every solution I may see with its program, stage, companies, owners and next step",
)
def portfolio(
    actor: ApiActor,
    session: DB,
    program_id: uuid.UUID | None = None,
    partner_id: uuid.UUID | None = None,
    stage: Annotated[str | None, Query(max_length=60)] = None,
    industry: Annotated[str | None, Query(max_length=60)] = None,
    limit: int = rows.PAGE,
    cursor: str | None = None,
) -> PortfolioOut:
    filters = rows.Filters(
        program_id=program_id, partner_id=partner_id, stage=stage or None, industry=industry or None
    )
    return rows.build(session, actor, filters, limit=limit, cursor=cursor)
