"""The links panel of a record page: a lead's or opportunity's campaign (a select of the
campaigns I am on) and solutions, a campaign's attributed leads and influenced opportunities
with what they add up to, a solution's linked opportunities, plans and campaigns with add and
remove. Rendered with the record page (`records.page_panels`, registered by `coterie.wiring`);
its forms post with htmx and get the panel back, or redirect to the record page without htmx.
Every read is one call into `links` or `influence`, through the gate on both ends.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.authz import gate
from coterie.cosell.campaigns import links
from coterie.cosell.campaigns.influence import Influence, influence, solution_influence
from coterie.cosell.campaigns.schemas import RecordLinkOut, Relation
from coterie.deps import DB
from coterie.fields.kinds import KINDS, Kind, KindInfo
from coterie.kit.problems import Problem
from coterie.models import Record
from coterie.records import presenters
from coterie.records.page_panels import PanelContent
from coterie.web import csrf
from coterie.web.forms import FormInput
from coterie.web.paths import parse_id
from coterie.web.sessions import PageActor
from coterie.web.submit import submit
from coterie.web.templating import is_htmx, redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])

TEMPLATE = "cosell/_links_panel.html"
CHOICE_LIMIT = 200
PANEL_KINDS = ("lead", "opportunity", "campaign", "solution")
SOLUTION_TAKES = ("opportunity", "plan", "campaign", "lead")


def _choices(
    session: Session, actor: Actor, kind: str, exclude: set[uuid.UUID]
) -> list[tuple[str, str]]:
    """Records of `kind` I may see, by title (the service re-checks that I take part)."""
    statement = gate.visible(actor.principal, kind).order_by(Record.title).limit(CHOICE_LIMIT)
    return [(str(r.id), r.title) for r in session.scalars(statement) if r.id not in exclude]


def _amounts(values: dict[str, Decimal]) -> str:
    if not values:
        return "—"
    return ", ".join(
        presenters.money_text({"value": str(values[c]), "currency": c}) for c in sorted(values)
    )


def _summary(found: Influence | None) -> dict[str, Any] | None:
    if found is None:
        return None
    return {
        "leads": found.leads,
        "opportunities": found.opportunities,
        "pipeline": _amounts(found.pipeline),
        "revenue": _amounts(found.revenue),
    }


def _row(link: RecordLinkOut) -> dict[str, Any]:
    info = KINDS[Kind(link.kind)]
    return {"link": link, "url": f"/{info.plural}/{link.record_id}", "kind_label": info.label}


def content(
    session: Session,
    actor: Actor,
    info: KindInfo,
    record_id: uuid.UUID,
    notice: str | None = None,
    error: str | None = None,
) -> PanelContent | None:
    kind = info.kind.value
    if kind not in PANEL_KINDS:
        return None
    context: dict[str, Any] = {
        "kind": kind,
        "plural": info.plural,
        "kind_label": info.label,
        "record_id": record_id,
        "notice": notice,
        "error": error,
    }
    principal = actor.principal
    if kind in ("lead", "opportunity"):
        campaigns = links.record_hubs(session, actor, Relation.CAMPAIGN, kind, record_id)
        mine = next((c for c in campaigns if c.linked_by_company_id == actor.company_id), None)
        context |= {
            "mine": mine,
            "others": [c for c in campaigns if c.linked_by_company_id != actor.company_id],
            "campaign_choices": _choices(session, actor, "campaign", set()),
            "solutions": [
                _row(s)
                for s in links.record_hubs(session, actor, Relation.SOLUTION, kind, record_id)
            ],
        }
    elif kind == "campaign":
        attributed = links.hub_links(session, actor, Relation.CAMPAIGN, record_id)
        context |= {
            "leads": [_row(a) for a in attributed if a.kind == "lead"],
            "opportunities": [_row(a) for a in attributed if a.kind == "opportunity"],
            "influence": _summary(influence(session, principal, [record_id]).get(record_id)),
            "solutions": [
                _row(s)
                for s in links.record_hubs(session, actor, Relation.SOLUTION, kind, record_id)
            ],
        }
    else:
        linked = links.hub_links(session, actor, Relation.SOLUTION, record_id)
        taken = {item.record_id for item in linked}
        context |= {
            "linked": [_row(item) for item in linked],
            "influence": _summary(
                solution_influence(session, principal, [record_id]).get(record_id)
            ),
            "link_choices": [
                (value, f"{text} ({KINDS[Kind(k)].label.lower()})")
                for k in SOLUTION_TAKES
                for value, text in _choices(session, actor, k, taken | {record_id})
            ],
        }
    return PanelContent(TEMPLATE, context)


def record_panel(
    session: Session, actor: Actor, info: KindInfo, record_id: uuid.UUID
) -> PanelContent | None:
    """The links panel of a lead, opportunity, campaign or solution (None for other kinds)."""
    return content(session, actor, info, record_id)


def _answer(
    request: Request,
    session: Session,
    actor: Actor,
    info: KindInfo,
    record_id: uuid.UUID,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    if not is_htmx(request):
        url = f"/{info.plural}/{record_id}"
        return redirect(request, url, error, "error") if error else redirect(request, url, notice)
    found = content(session, actor, info, record_id, notice, error)
    assert found is not None  # noqa: S101 (only panel kinds route here)
    return render(request, found.template, found.context, status_code=status_code)


def _run(
    request: Request,
    session: Session,
    actor: Actor,
    info: KindInfo,
    record_id: uuid.UUID,
    use_case: Callable[[], object],
    notice: str,
) -> Response:
    def refused(problem: Problem) -> Response:
        return _answer(
            request, session, actor, info, record_id, error=problem.detail,
            status_code=problem.status,
        )  # fmt: skip

    return submit(
        session,
        use_case,
        done=lambda _: _answer(request, session, actor, info, record_id, notice=notice),
        refused=refused,
        # the page's own record hidden: its 404 is the page's
        passes=lambda p: p.status == 404 and p.detail.startswith(f"No {info.kind.value}"),
    )


def _choose_campaign(info: KindInfo) -> Callable[..., Response]:
    def choose(
        request: Request, session: DB, actor: PageActor, form: FormInput, record_id: str
    ) -> Response:
        rid = parse_id(record_id, info.kind.value)
        raw = form.text("campaign_id")
        campaign_id = parse_id(raw, "campaign") if raw else None
        notice = "Campaign saved." if campaign_id else "Campaign cleared."
        return _run(
            request, session, actor, info, rid,
            lambda: links.set_campaign(session, actor, info.kind.value, rid, campaign_id),
            notice,
        )  # fmt: skip

    return choose


def _unlink(info: KindInfo, relation: Relation) -> Callable[..., Response]:
    def remove(
        request: Request, session: DB, actor: PageActor, record_id: str, linked_id: str
    ) -> Response:
        rid = parse_id(record_id, info.kind.value)
        other = parse_id(linked_id, "record")
        return _run(
            request, session, actor, info, rid,
            lambda: links.unlink(session, actor, relation, rid, other),
            "Link removed.",
        )  # fmt: skip

    return remove


@router.post("/solutions/{record_id}/links")
def link_to_solution(
    request: Request, session: DB, actor: PageActor, form: FormInput, record_id: str
) -> Response:
    info = KINDS[Kind.SOLUTION]
    rid = parse_id(record_id, "solution")
    raw = form.text("record_id")
    if not raw:
        return _answer(
            request, session, actor, info, rid, error="Choose a record to link.", status_code=422
        )
    other = parse_id(raw, "record")
    return _run(
        request, session, actor, info, rid,
        lambda: links.link(session, actor, Relation.SOLUTION, rid, other),
        "Linked to the solution.",
    )  # fmt: skip


for _kind in (Kind.LEAD, Kind.OPPORTUNITY):
    router.add_api_route(
        f"/{KINDS[_kind].plural}/{{record_id}}/links/campaign",
        _choose_campaign(KINDS[_kind]),
        methods=["POST"],
    )
router.add_api_route(
    "/solutions/{record_id}/links/{linked_id}/delete",
    _unlink(KINDS[Kind.SOLUTION], Relation.SOLUTION),
    methods=["POST"],
)
router.add_api_route(
    "/campaigns/{record_id}/links/{linked_id}/delete",
    _unlink(KINDS[Kind.CAMPAIGN], Relation.CAMPAIGN),
    methods=["POST"],
)
