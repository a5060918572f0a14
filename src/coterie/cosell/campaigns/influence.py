"""What campaigns and joint solutions influenced, computed through the gate for one viewer.

`influence(session, principal, campaign_ids)` answers, per campaign the viewer may see, the leads
and opportunities attributed to it (links whose both ends the viewer may see: `links`), the
pipeline (open opportunities) and the revenue (won opportunities) of those opportunities, per
currency. `solution_influence` answers the same per solution. A campaign or solution the
viewer may not see is left out of the answer (never zeros that would confirm it exists).

Amounts come from the viewer's visible spaces only, one amount per opportunity, never a sum
of spaces (each company keeps its own figure for the same deal): the viewer's own space's amount
when it has one, otherwise the amount the record's owner company shares with the viewer;
otherwise the opportunity counts without an amount. Won or open is read from the stage of the
same space, by that company's stages (`coterie.workflows.stages`; a stage the viewer may not
see counts as open); lost opportunities add to neither. Nothing is converted between currencies:
a caller that wants one figure (ROI per fund, `coterie.funds`) converts with its own rates.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.orm import Session

from coterie.authz import gate, rls
from coterie.authz.principal import Principal
from coterie.cosell.campaigns.links import RULES, visible_links
from coterie.cosell.campaigns.schemas import Relation
from coterie.cosell.planning import common
from coterie.models import Record, RecordAccess
from coterie.models.links import RecordLink
from coterie.workflows.stages import StageCategory, StageInfo, category_in, stages_for

OPPORTUNITY = "opportunity"
LEAD = "lead"


@dataclass
class Influence:
    """Leads and opportunities linked to one campaign or solution, and their open (pipeline) and
    won (revenue) amounts per currency code, as one viewer may see them."""

    leads: int = 0
    opportunities: int = 0
    pipeline: dict[str, Decimal] = field(default_factory=dict)
    revenue: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class DealValue:
    """One opportunity's amount and standing as the viewer may see them."""

    amount: Decimal | None
    currency: str | None
    category: StageCategory


def influence(
    session: Session, principal: Principal, campaign_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Influence]:
    """Per visible campaign: attributed leads, opportunities, pipeline and revenue by currency."""
    return _influence(session, principal, Relation.CAMPAIGN, campaign_ids)


def solution_influence(
    session: Session, principal: Principal, solution_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Influence]:
    """Per visible solution: linked leads, opportunities, pipeline and revenue by currency."""
    return _influence(session, principal, Relation.SOLUTION, solution_ids)


def _influence(
    session: Session, principal: Principal, relation: Relation, hub_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Influence]:
    wanted = set(hub_ids)
    if not wanted:
        return {}
    hub_kind = RULES[relation].hub_kind
    seen = set(
        session.scalars(
            gate.visible_ids(principal, hub_kind)
            .where(RecordAccess.record_id.in_(wanted))
            .execution_options(**rls.as_company(principal.company_id))
        )
    )
    result = {hub: Influence() for hub in seen}
    if not seen:
        return result
    statement = visible_links(principal, relation).where(RecordLink.to_record_id.in_(seen))
    pairs: set[tuple[uuid.UUID, str, uuid.UUID]] = {
        (row.to_record_id, row.from_kind, row.from_record_id) for row in session.scalars(statement)
    }  # a pair two companies linked counts once
    deals = deal_values(session, principal, [rid for _, k, rid in pairs if k == OPPORTUNITY])
    for hub, kind, record_id in sorted(pairs, key=str):
        found = result[hub]
        if kind == LEAD:
            found.leads += 1
        elif kind == OPPORTUNITY:
            found.opportunities += 1
            deal = deals.get(record_id)
            if deal is None or deal.amount is None or deal.currency is None:
                continue
            bucket = {StageCategory.OPEN: found.pipeline, StageCategory.WON: found.revenue}.get(
                deal.category
            )
            if bucket is not None:
                bucket[deal.currency] = bucket.get(deal.currency, Decimal(0)) + deal.amount
    return result


def deal_values(
    session: Session, principal: Principal, opportunity_ids: list[uuid.UUID]
) -> dict[uuid.UUID, DealValue]:
    """Each visible opportunity's one amount and stage category (see the module's rule)."""
    if not opportunity_ids:
        return {}
    statement = (
        gate.visible(principal, OPPORTUNITY)
        .with_only_columns(Record.id, Record.owner_company_id)
        .where(Record.id.in_(opportunity_ids))
    )
    owners: dict[uuid.UUID, uuid.UUID] = {row[0]: row[1] for row in session.execute(statement)}
    spaces = gate.spaces(
        session,
        principal,
        OPPORTUNITY,
        list(owners),
        common.own_policy(session, principal, OPPORTUNITY),
    )
    by_record: dict[uuid.UUID, dict[uuid.UUID, dict[str, object]]] = {}
    for space in spaces:
        by_record.setdefault(space.record_id, {})[space.company_id] = space.standard
    stages: dict[uuid.UUID, tuple[StageInfo, ...]] = {}
    found: dict[uuid.UUID, DealValue] = {}
    for record_id, owner in owners.items():
        visible = by_record.get(record_id, {})
        chosen: uuid.UUID | None = None
        for company in (principal.company_id, owner):
            if isinstance(visible.get(company, {}).get("amount"), dict):
                chosen = company
                break
        if chosen is None:
            found[record_id] = DealValue(None, None, StageCategory.OPEN)
            continue
        standard = visible[chosen]
        amount = standard["amount"]
        assert isinstance(amount, dict)  # noqa: S101 (checked above)
        if chosen not in stages:
            stages[chosen] = stages_for(session, chosen, OPPORTUNITY)
        stage = standard.get("stage")
        found[record_id] = DealValue(
            Decimal(str(amount["value"])),
            str(amount["currency"]),
            category_in(stages[chosen], stage if isinstance(stage, str) else None),
        )
    return found
