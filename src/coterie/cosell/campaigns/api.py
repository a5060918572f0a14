"""Routes of campaign attribution, solution links and influence.

A campaign's records: `/campaigns/{id}/records` (the leads and opportunities attributed to it),
a solution's: `/solutions/{id}/records` (opportunities, leads, plans, campaigns), shaped like a
plan's `/plans/{id}/records`. The record side: `/{leads|opportunities}/{id}/campaign` (my
company's attribution, and every one the caller may see) and `/{plural}/{id}/solutions`.
Every route reads through the gate on both ends of a link: a hidden campaign, solution or
record answers 404 and never appears in a list.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from enum import Enum

from fastapi import APIRouter, Response, status

from coterie.auth.dependencies import ApiActor
from coterie.cosell.campaigns import links
from coterie.cosell.campaigns.influence import Influence, influence, solution_influence
from coterie.cosell.campaigns.schemas import (
    AmountOut,
    CampaignChoiceIn,
    InfluenceOut,
    LinkRecordIn,
    RecordLinkList,
    RecordLinkOut,
    Relation,
)
from coterie.deps import DB
from coterie.kit.problems import not_found

router = APIRouter()

HUBS = {"campaigns": Relation.CAMPAIGN, "solutions": Relation.SOLUTION}
KIND_OF = {
    "leads": "lead",
    "opportunities": "opportunity",
    "plans": "plan",
    "campaigns": "campaign",
}
ATTRIBUTED = ("leads", "opportunities")  # what a campaign takes
SOLUTION_RECORDS = ("leads", "opportunities", "plans", "campaigns")  # what a solution takes


def influence_out(record_id: uuid.UUID, found: Influence) -> InfluenceOut:
    """The API form of one `Influence` (amounts sorted by currency)."""

    def amounts(values: dict[str, Decimal]) -> list[AmountOut]:
        return [AmountOut(currency=c, amount=values[c]) for c in sorted(values)]

    return InfluenceOut(
        record_id=record_id,
        leads=found.leads,
        opportunities=found.opportunities,
        pipeline=amounts(found.pipeline),
        revenue=amounts(found.revenue),
    )


def _hub_routes(plural: str, relation: Relation) -> None:
    what = "campaign" if relation == Relation.CAMPAIGN else "solution"
    taken = "attributed leads and opportunities" if what == "campaign" else "linked records"

    def list_records(hub_id: uuid.UUID, actor: ApiActor, session: DB) -> RecordLinkList:
        return RecordLinkList(items=links.hub_links(session, actor, relation, hub_id))

    def link_record(
        hub_id: uuid.UUID, body: LinkRecordIn, actor: ApiActor, session: DB
    ) -> RecordLinkOut:
        links.link(session, actor, relation, hub_id, body.record_id)
        session.commit()
        found = [
            item
            for item in links.hub_links(session, actor, relation, hub_id)
            if item.record_id == body.record_id and item.linked_by_company_id == actor.company_id
        ]
        return found[0]

    def unlink_record(
        hub_id: uuid.UUID, record_id: uuid.UUID, actor: ApiActor, session: DB
    ) -> Response:
        links.unlink(session, actor, relation, hub_id, record_id)
        session.commit()
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    def hub_influence(hub_id: uuid.UUID, actor: ApiActor, session: DB) -> InfluenceOut:
        compute = influence if relation == Relation.CAMPAIGN else solution_influence
        found = compute(session, actor.principal, [hub_id])
        if hub_id not in found:
            raise not_found(what)
        return influence_out(hub_id, found[hub_id])

    tags: list[str | Enum] = ["campaigns"]
    router.add_api_route(
        f"/{plural}/{{hub_id}}/records",
        list_records,
        methods=["GET"],
        response_model=RecordLinkList,
        tags=tags,
        summary=f"The {taken} of a {what} (records I may see)",
    )
    router.add_api_route(
        f"/{plural}/{{hub_id}}/records",
        link_record,
        methods=["POST"],
        response_model=RecordLinkOut,
        status_code=status.HTTP_201_CREATED,
        tags=tags,
        summary=f"Link a record I see and take part in to a {what} I am on",
    )
    router.add_api_route(
        f"/{plural}/{{hub_id}}/records/{{record_id}}",
        unlink_record,
        methods=["DELETE"],
        status_code=status.HTTP_204_NO_CONTENT,
        tags=tags,
        summary=f"Unlink a record (the company that linked it, or the {what}'s owner)",
    )
    router.add_api_route(
        f"/{plural}/{{hub_id}}/influence",
        hub_influence,
        methods=["GET"],
        response_model=InfluenceOut,
        tags=tags,
        summary=f"Leads, opportunities, pipeline and revenue a {what} influenced (as I see them)",
    )


def _attribution_routes(plural: str) -> None:
    kind = KIND_OF[plural]

    def read(record_id: uuid.UUID, actor: ApiActor, session: DB) -> RecordLinkList:
        return RecordLinkList(
            items=links.record_hubs(session, actor, Relation.CAMPAIGN, kind, record_id)
        )

    def choose(
        record_id: uuid.UUID, body: CampaignChoiceIn, actor: ApiActor, session: DB
    ) -> RecordLinkList:
        links.set_campaign(session, actor, kind, record_id, body.campaign_id)
        session.commit()
        return read(record_id, actor, session)

    router.add_api_route(
        f"/{plural}/{{record_id}}/campaign",
        read,
        methods=["GET"],
        response_model=RecordLinkList,
        tags=["campaigns"],
        summary=f"The campaigns a {kind} is attributed to (that I may see)",
    )
    router.add_api_route(
        f"/{plural}/{{record_id}}/campaign",
        choose,
        methods=["PUT"],
        response_model=RecordLinkList,
        tags=["campaigns"],
        summary=f"Attribute a {kind} to a campaign for my company (null clears it)",
    )


def _solution_routes(plural: str) -> None:
    kind = KIND_OF[plural]

    def read(record_id: uuid.UUID, actor: ApiActor, session: DB) -> RecordLinkList:
        return RecordLinkList(
            items=links.record_hubs(session, actor, Relation.SOLUTION, kind, record_id)
        )

    router.add_api_route(
        f"/{plural}/{{record_id}}/solutions",
        read,
        methods=["GET"],
        response_model=RecordLinkList,
        tags=["campaigns"],
        summary=f"The joint solutions a {kind} is linked to (that I may see)",
    )


for _plural, _relation in HUBS.items():
    _hub_routes(_plural, _relation)
for _plural in ATTRIBUTED:
    _attribution_routes(_plural)
for _plural in SOLUTION_RECORDS:
    _solution_routes(_plural)
