"""Network pages: home's "Get started" switch, the directory, company profiles, my network (with
the collaboration graph), partnership actions. The home page itself is `coterie.home`.

Reads and writes go through the network services (`companies`, `partnerships`, `members`);
nothing here queries other companies' data itself. Partnership buttons work as plain forms
(POST-redirect-GET) and, with htmx, update their card in place, and an `HX-Trigger` event
that carries the page's partner and invitation counters (`_counts_trigger`).
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from coterie.auth import preferences
from coterie.auth.principal import Actor
from coterie.deps import DB, AppSettings
from coterie.kit.problems import Problem, not_found
from coterie.models import Partnership
from coterie.models.vocabulary import Industry, PartnershipStatus, PartnerType, Region
from coterie.network import companies, get_started, graph, partnerships
from coterie.network.schemas import CompanyOut, PartnershipIn, PartnershipOut
from coterie.web import csrf
from coterie.web.forms import FormInput, clean, errors_from_validation
from coterie.web.paths import parse_id
from coterie.web.sessions import PageActor, safe_next
from coterie.web.submit import submit
from coterie.web.templating import is_htmx, redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])

DIRECTORY_PAGE_SIZE = 20
LIST_LIMIT = 200
MAX_QUERY_LENGTH = 200
Text = Annotated[str, Query()]


def _partnerships(
    session: Session, actor: Actor, *statuses: PartnershipStatus
) -> tuple[list[PartnershipOut], bool]:
    """The caller's partnerships in `statuses`, newest first, and whether the list was cut."""
    found: list[PartnershipOut] = []
    more = False
    for status in statuses:
        items, next_cursor = partnerships.list_for(
            session, actor, status=status, limit=LIST_LIMIT, cursor=None
        )
        found.extend(partnerships.to_out(p, actor.company_id) for p in items)
        more = more or next_cursor is not None
    found.sort(key=lambda p: p.ended_at or p.responded_at or p.created_at, reverse=True)
    return found, more


# -- home -------------------------------------------------------------------------------------


@router.post("/home/get-started")
def get_started_visibility(
    request: Request, session: DB, actor: PageActor, form: FormInput
) -> Response:
    """Hide the "Get started" panel for me (`hide=1`), or show it again (`hide=0`)."""
    hide = form.text("hide") != "0"
    actor.user.preferences = preferences.set_dismissed(
        actor.user.preferences, get_started.PANEL, hide
    )
    session.commit()
    if is_htmx(request) and hide:
        return render(request, "network/_get_started_hidden.html")
    message = (
        "Get started is hidden. You can bring it back from the bottom of this page."
        if hide
        else "Get started is back."
    )
    return redirect(request, "/", message, "info")


# -- directory and profiles -------------------------------------------------------------------


def _choice(value: str, allowed: type[Industry] | type[Region] | type[PartnerType]) -> str | None:
    return value if value in {member.value for member in allowed} else None


@router.get("/directory")
def directory(
    request: Request,
    session: DB,
    actor: PageActor,
    q: Text = "",
    industry: Text = "",
    region: Text = "",
    partner_type: Text = "",
    cursor: Text = "",
) -> Response:
    filters = {
        "q": clean(q, MAX_QUERY_LENGTH).strip(),
        "industry": _choice(industry, Industry) or "",
        "region": _choice(region, Region) or "",
        "partner_type": _choice(partner_type, PartnerType) or "",
    }
    notice = None
    try:
        results, next_cursor = companies.search_directory(
            session,
            actor.company_id,
            q=filters["q"] or None,
            industry=filters["industry"] or None,
            region=filters["region"] or None,
            partner_type=filters["partner_type"] or None,
            limit=DIRECTORY_PAGE_SIZE,
            cursor=clean(cursor) or None,
        )
    except Problem:  # a stale or edited cursor: start again from the first page
        notice = "That page link is no longer valid, so here is the first page."
        cursor = ""
        results, next_cursor = companies.search_directory(
            session,
            actor.company_id,
            q=filters["q"] or None,
            industry=filters["industry"] or None,
            region=filters["region"] or None,
            partner_type=filters["partner_type"] or None,
            limit=DIRECTORY_PAGE_SIZE,
        )
    active = {k: v for k, v in filters.items() if v}
    next_url = "/directory?" + urlencode(active | {"cursor": next_cursor}) if next_cursor else None
    first_url = "/directory?" + urlencode(active) if cursor else None
    return render(
        request,
        "network/directory.html",
        {
            "nav": "directory",
            "filters": filters,
            "filtered": bool(active),
            "results": results,
            "next_url": next_url,
            "first_url": first_url,
            "notice": notice,
            "industries": list(Industry),
            "regions": list(Region),
            "partner_types": list(PartnerType),
        },
    )


def _profile(session: Session, actor: Actor, company_id: uuid.UUID) -> CompanyOut:
    company = companies.get_company(session, company_id)
    return companies.profiles_for(session, actor.company_id, [company])[0]


@router.get("/companies/{company_id}")
def company_page(request: Request, session: DB, actor: PageActor, company_id: str) -> Response:
    profile = _profile(session, actor, parse_id(company_id, "company"))
    return render(
        request,
        "network/company.html",
        {"nav": "directory", "profile": profile, "is_mine": profile.id == actor.company_id},
    )


# -- my network and partnership actions -------------------------------------------------------


@router.get("/network")
def network(request: Request, session: DB, actor: PageActor) -> Response:
    active, more_active = _partnerships(session, actor, PartnershipStatus.ACTIVE)
    pending, more_pending = _partnerships(session, actor, PartnershipStatus.PENDING)
    history, more_history = _partnerships(
        session, actor, PartnershipStatus.DECLINED, PartnershipStatus.REVOKED
    )
    collaboration = graph.build(session, actor.principal, actor.company)
    return render(
        request,
        "network/network.html",
        {
            "nav": "network",
            "graph": collaboration,
            "graph_nodes": {n.id: n for n in collaboration.nodes},
            "graph_lonely": [
                n for n in collaboration.nodes if n.role != "me" and n.shared_with_me == 0
            ],
            "kind_labels": graph.kind_labels,
            "partners": active,
            "incoming": [p for p in pending if p.direction == "incoming"],
            "outgoing": [p for p in pending if p.direction == "outgoing"],
            "history": history,
            "truncated": more_active or more_pending or more_history,
            "limit": LIST_LIMIT,
        },
    )


@router.get("/network/graph.json")
def network_graph(session: DB, actor: PageActor) -> Response:
    """The graph of `/api/v1/network/graph` for the signed-in page (session cookie, no token),
    which static/network.js draws."""
    collaboration = graph.build(session, actor.principal, actor.company)
    return JSONResponse(
        collaboration.model_dump(mode="json"),
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


def _failed(request: Request, problem: Problem, back: str) -> Response:
    """A refused action: htmx shows the problem as an alert, a plain form flashes it."""
    if is_htmx(request):
        raise problem
    return redirect(request, back, problem.detail, "error")


@router.post("/network/partnerships")
def invite_partner(
    request: Request, session: DB, settings: AppSettings, actor: PageActor, form: FormInput
) -> Response:
    back = safe_next(form.text("next"), "/directory")
    try:
        body = PartnershipIn.model_validate(
            {"company_id": form.text("company_id"), "message": form.text("message")}
        )
    except ValidationError as exc:
        errors = errors_from_validation(exc)
        detail = "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in errors.items())
        return _failed(request, Problem(422, "validation-error", "Invalid request", detail), back)

    def sent(partnership: Partnership) -> Response:
        name = partnership.recipient.name
        message = f"Invitation sent to {name}. Their admins and managers were notified by e-mail."
        if is_htmx(request):
            return render(
                request,
                "network/_company_card.html",
                {"c": _profile(session, actor, body.company_id), "notice": message},
            )
        return redirect(request, back, message)

    return submit(
        session,
        lambda: partnerships.request(session, settings, actor, body.company_id, body.message),
        done=sent,
        refused=lambda problem: _failed(request, problem, back),
    )


COUNTS_EVENT = "partnership-counts"


def _counts_trigger(session: Session, actor: Actor) -> dict[str, str]:
    """An `HX-Trigger` header carrying my company's partnership counters, fresh, by the id of
    the element that shows each (`<span class="count" id="partners-count">`): network.js
    updates those the page has (home: partners, invitations waiting and sent; /network: those
    and history), so "My partners 5" never stays stale after an answer."""
    now = partnerships.counts(session, actor)
    counts = {
        "partners-count": now.active,
        "incoming-count": now.incoming,
        "outgoing-count": now.outgoing,
        "history-count": now.ended,
    }
    return {"HX-Trigger": json.dumps({COUNTS_EVENT: counts})}


PARTNERSHIP_ACTIONS = {
    "accept": partnerships.accept,
    "decline": partnerships.decline,
    "revoke": partnerships.revoke,
}


def _done_message(action: str, p: PartnershipOut) -> str:
    if action == "accept":
        return f"You are now partners with {p.partner.name}."
    if action == "decline":
        return f"You declined the invitation from {p.partner.name}."
    if p.responded_at is None:
        return f"Your invitation to {p.partner.name} was withdrawn."
    return f"Your partnership with {p.partner.name} has ended."


@router.post("/network/partnerships/{partnership_id}/{action}")
def partnership_action(
    request: Request,
    session: DB,
    actor: PageActor,
    form: FormInput,
    partnership_id: str,
    action: str,
) -> Response:
    back = safe_next(form.text("next"), "/network")
    transition = PARTNERSHIP_ACTIONS.get(action)
    if transition is None:
        raise not_found("action")

    def done(partnership: Partnership) -> Response:
        out = partnerships.to_out(partnership, actor.company_id)
        message = _done_message(action, out)
        if is_htmx(request):
            return render(
                request,
                "network/_partnership.html",
                {"p": out, "notice": message},
                headers=_counts_trigger(session, actor),
            )
        return redirect(request, back, message)

    return submit(
        session,
        lambda: transition(session, actor, parse_id(partnership_id, "partnership")),
        done=done,
        refused=lambda problem: _failed(request, problem, back),
    )
