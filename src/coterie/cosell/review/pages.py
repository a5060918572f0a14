"""The weekly pipeline review page of a plan (`/plans/{id}/review`)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request, Response

from coterie.authz import gate
from coterie.cosell.review import service as review
from coterie.cosell.review.schemas import Movement
from coterie.deps import DB
from coterie.kit.problems import invalid
from coterie.web.paths import parse_id
from coterie.web.sessions import PageActor
from coterie.web.templating import render

router = APIRouter(include_in_schema=False)

HEADINGS = {
    Movement.NEW: ("New", "Joined the plan's pipeline in the period"),
    Movement.ADVANCED: ("Advanced", "Moved to a later stage"),
    Movement.SLIPPED: ("Slipped", "Close date moved out"),
    Movement.PULLED_IN: ("Pulled in", "Close date moved earlier"),
    Movement.REGRESSED: ("Regressed", "Moved back to an earlier stage, or reopened"),
    Movement.WON: ("Won", "Reached a won stage"),
    Movement.LOST: ("Lost", "Reached a lost stage"),
    Movement.VALUE_CHANGED: ("Value changed", "Amount changed, nothing else moved"),
}


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise invalid(f"query.{name}", "must be a date, YYYY-MM-DD") from exc


@router.get("/plans/{plan_id}/review")
def review_page(
    request: Request,
    session: DB,
    actor: PageActor,
    plan_id: str,
    start: str | None = None,
    end: str | None = None,
) -> Response:
    plan_uuid = parse_id(plan_id, "plan")
    principal = actor.principal
    plan = gate.check(session, principal, "plan", plan_uuid)
    result = review.review(session, actor, plan_uuid, _day(start, "start"), _day(end, "end"))
    return render(
        request,
        "cosell/review.html",
        {
            "nav": "plans",
            "plan": plan,
            "review": result,
            "headings": HEADINGS,
        },
    )
