"""`GET /`: the signed-in user's workspace (`home.workspace`), rendered by network/home.html.

"Today" is the user's own calendar day (their time zone preference), so "Overdue" and "this
quarter" mean what they mean to the person reading the page.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request, Response

from coterie.activity.notification_text import record_url
from coterie.auth import preferences
from coterie.auth.principal import Actor
from coterie.db import utcnow
from coterie.deps import DB
from coterie.fields.kinds import KINDS, Kind
from coterie.home import workspace
from coterie.network import companies
from coterie.web import csrf
from coterie.web.sessions import PageActor
from coterie.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])


def today_for(actor: Actor) -> date:
    """The actor's calendar day now, in their time zone (UTC when unknown)."""
    zone = preferences.read(actor.user.preferences).timezone
    try:
        return utcnow().astimezone(ZoneInfo(zone)).date()
    except (KeyError, ValueError):
        return utcnow().date()


@router.get("/")
def home(request: Request, session: DB, actor: PageActor) -> Response:
    today = today_for(actor)
    space = workspace.build(session, actor, today)
    return render(
        request,
        "network/home.html",
        {
            "nav": "home",
            "profile": companies.to_out(actor.company, actor.company_id, {}),
            "w": space,
            "partners": space.partners,
            "incoming": space.incoming,
            "outgoing": space.outgoing,
            "start": space.start,
            "kind_labels": {k.value: KINDS[k].label for k in Kind},
            "record_url": record_url,
        },
    )
