"""Route of the weekly pipeline review of a joint sales plan."""

from __future__ import annotations

import uuid
from datetime import date

from fastapi import APIRouter, Query

from coterie.auth.dependencies import ApiActor
from coterie.cosell.review import service as review
from coterie.cosell.review.schemas import ReviewOut
from coterie.deps import DB

router = APIRouter()


@router.get(
    "/plans/{plan_id}/review",
    response_model=ReviewOut,
    tags=["plans"],
    summary="Weekly pipeline review of a plan",
    description=(
        "What is new, advanced, slipped, pulled in, regressed, won and lost among the plan's "
        "pipeline opportunities between `start` and `end` (inclusive; by default the seven days "
        "ending today), per company: your own space and what each partner shares with you, "
        "with value deltas in your currency. 404 when you may not see the plan."
    ),
)
def plan_review(
    plan_id: uuid.UUID,
    actor: ApiActor,
    session: DB,
    start: date | None = Query(default=None, description="First day, YYYY-MM-DD"),
    end: date | None = Query(default=None, description="Last day, YYYY-MM-DD (default today)"),
) -> ReviewOut:
    return review.review(session, actor, plan_id, start, end)
