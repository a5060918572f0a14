"""The solutions portfolio page (`/solutions/portfolio`): the filters (program, partner, stage,
industry), the chevron bar of counts per stage, and one row per solution with its program,
stage, companies, owners and next step. It reads `rows.build` as the signed-in user, so it shows
what the API answers them; a filter the user may not apply (a field they cannot see, a program
they are not in) is said on the page, with no rows, never applied silently."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.authz import gate
from coterie.cosell.portfolio import rows
from coterie.cosell.portfolio.schemas import PortfolioOut
from coterie.deps import DB
from coterie.fields.kinds import Kind
from coterie.kit.problems import Problem
from coterie.models import Record
from coterie.models.vocabulary import Industry
from coterie.network.companies import names as company_names
from coterie.web.sessions import PageActor
from coterie.web.templating import options, render

router = APIRouter(include_in_schema=False)

Choice = Annotated[str, Query(max_length=60)]
CHOICES = 200


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None


def _choices(session: Session, actor: Actor) -> dict[str, Any]:
    """The programs and partner companies a filter may name: those on what I see."""
    principal = actor.principal
    programs = [
        (str(r.id), r.title)
        for r in session.scalars(
            gate.visible(principal, Kind.PROGRAM.value).order_by(Record.title).limit(CHOICES)
        )
    ]
    partners = gate.active_partners(
        session, principal, rows.SOLUTION, gate.visible_ids(principal, rows.SOLUTION)
    )
    names = company_names(session, partners)
    return {
        "programs": programs,
        "partners": sorted(
            ((str(c), names[c]) for c in partners if c in names), key=lambda p: p[1]
        ),
        "industries": options(Industry),
    }


@router.get("/solutions/portfolio")
def portfolio_page(
    request: Request,
    session: DB,
    actor: PageActor,
    program: Choice = "",
    partner: Choice = "",
    stage: Choice = "",
    industry: Choice = "",
) -> Response:
    chosen = {"program": program, "partner": partner, "stage": stage, "industry": industry}
    filters = rows.Filters(
        program_id=_uuid(program),
        partner_id=_uuid(partner),
        stage=stage or None,
        industry=industry or None,
    )
    problem = None
    data = PortfolioOut(items=[], next_cursor=None, total=0, stages=[])
    try:
        data = rows.build(session, actor, filters)
    except Problem as found:
        if found.status not in (400, 404, 422):
            raise
        session.rollback()
        problem = (
            "That program is not one you take part in." if found.status == 404 else found.detail
        )

    def link(**changes: str) -> str:
        query = {k: v for k, v in (chosen | changes).items() if v}
        return "/solutions/portfolio" + (f"?{urlencode(query)}" if query else "")

    return render(
        request,
        "cosell/portfolio.html",
        {
            "nav": "portfolio",
            "data": data,
            "problem": problem,
            "chosen": chosen,
            "link": link,
            "filtered": any(chosen.values()),
            "stage_choices": [(s.key, s.label) for s in data.stages if s.key],
            **_choices(session, actor),
        },
    )
