"""Return on a fund: leads, pipeline and revenue influenced per currency unit paid.

Influence comes from campaign attribution (`coterie.cosell.campaigns.influence`: leads, pipeline
and revenue per campaign through the gate). `coterie.wiring.install()` installs the source,
`funds.attribution.influence`, which converts the amounts to the budget's currency
(`install_influence`); `budget_roi` takes the figures per campaign from it. The arithmetic
(`returns`) is a pure function of the figures, so it is also tested on figures built by hand;
with no source installed the page says that attribution is not connected.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from coterie.authz import gate
from coterie.authz.principal import Principal
from coterie.fields.kinds import Kind
from coterie.funds import access
from coterie.funds.money import amount
from coterie.funds.schemas import RoiOut
from coterie.kit.problems import not_found
from coterie.models import RecordAccess
from coterie.models.funds import FundRequest


@dataclass(frozen=True)
class Influence:
    """What a campaign influenced, in the budget's currency (cents)."""

    leads: int
    pipeline_cents: int
    revenue_cents: int
    # currencies of amounts that could not be converted to the budget's currency (not counted)
    not_converted: frozenset[str] = frozenset()


# source(session, principal, campaign_ids, budget_currency): figures per campaign it may see
InfluenceSource = Callable[
    [Session, Principal, list[uuid.UUID], str], Mapping[uuid.UUID, Influence]
]
_sources: list[InfluenceSource] = []


def install_influence(source: InfluenceSource) -> None:
    _sources[:] = [source]


def uninstall_influence() -> None:
    _sources.clear()


def installed_influence() -> InfluenceSource | None:
    """The installed source (tests put it back after plugging in their own)."""
    return _sources[0] if _sources else None


@dataclass(frozen=True)
class Returns:
    paid_cents: int
    leads: int
    pipeline_cents: int
    revenue_cents: int
    not_converted: frozenset[str] = frozenset()

    def per_unit(self, cents: int) -> Decimal | None:
        """`cents` per currency unit paid (None when nothing was paid)."""
        if self.paid_cents <= 0:
            return None
        return (Decimal(cents) / Decimal(self.paid_cents)).quantize(Decimal("0.01"))

    @property
    def leads_per_thousand(self) -> Decimal | None:
        if self.paid_cents <= 0:
            return None
        return (Decimal(self.leads) * 100_000 / Decimal(self.paid_cents)).quantize(Decimal("0.01"))


def returns(paid_cents: int, influences: Iterable[Influence]) -> Returns:
    """Sum what the fund's campaigns influenced against what the fund paid."""
    leads = pipeline = revenue = 0
    left_out: set[str] = set()
    for figure in influences:
        leads += figure.leads
        pipeline += figure.pipeline_cents
        revenue += figure.revenue_cents
        left_out |= figure.not_converted
    return Returns(paid_cents, leads, pipeline, revenue, frozenset(left_out))


def budget_roi(
    session: Session,
    principal: Principal,
    budget_id: uuid.UUID,
    source: InfluenceSource | None = None,
) -> RoiOut:
    """The budget's return as the principal may see it: only its funder (404 otherwise, or for a
    partner that may not see the total). Campaigns count once each, and only those the principal
    may see (through the gate)."""
    budget = access.budget(session, principal, budget_id)
    if budget.company_id != principal.company_id:
        raise not_found("return on this budget")
    source = source or (_sources[0] if _sources else None)
    rows = list(
        session.scalars(access.requests(principal).where(FundRequest.budget_id == budget.id))
    )
    wanted = {r.campaign_id for r in rows if r.campaign_id is not None}
    seen: list[uuid.UUID] = []
    if wanted:
        seen = list(
            session.scalars(
                gate.visible_ids(principal, Kind.CAMPAIGN.value).where(
                    RecordAccess.record_id.in_(wanted)
                )
            )
        )
    figures = (
        source(session, principal, sorted(seen), budget.currency)
        if source is not None and seen
        else {}
    )
    result = returns(budget.paid_cents, figures.values())
    return RoiOut(
        budget_id=budget.id,
        currency=budget.currency,
        connected=source is not None,
        paid=amount(result.paid_cents),
        leads=result.leads,
        pipeline=amount(result.pipeline_cents),
        revenue=amount(result.revenue_cents),
        leads_per_thousand=result.leads_per_thousand,
        pipeline_per_unit=result.per_unit(result.pipeline_cents),
        revenue_per_unit=result.per_unit(result.revenue_cents),
        not_converted=sorted(result.not_converted),
    )
