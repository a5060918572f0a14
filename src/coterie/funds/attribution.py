"""Campaign attribution as the return on a fund sees it: `cosell.campaigns.influence` read as
the funder, each campaign's pipeline and revenue brought to the budget's currency.

Amounts already in the budget's currency count as they are. Other currencies are converted
with the funding company's own exchange rates (its currency view, `network.currency`: the
latest rate on or before today of the amount's currency and of the budget's currency, both
against the company's currency); an amount whose currency has no such rate is not counted, and
its currency is reported (`roi.Influence.not_converted`) so that the budget page says so.
Installed into `funds.roi` from `coterie.wiring.install()`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy.orm import Session

from coterie.authz.principal import Principal
from coterie.cosell.campaigns import influence as campaign_influence
from coterie.db import utcnow
from coterie.funds.roi import Influence
from coterie.network.currency import Converter

CENT = Decimal("0.01")


def _in_budget_currency(
    amounts: Mapping[str, Decimal], currency: str, converter: Converter
) -> tuple[int, set[str]]:
    """The sum of `amounts` in `currency`, in cents, and the currencies left out."""
    today = utcnow().date()
    target = converter.rate(currency, today)
    total = Decimal(0)
    left_out: set[str] = set()
    for code, value in amounts.items():
        if code == currency:
            total += value
            continue
        source = converter.rate(code, today)
        if source is None or target is None or target[0] == 0:
            left_out.add(code)
            continue
        total += (value * source[0] / target[0]).quantize(CENT, rounding=ROUND_HALF_EVEN)
    return int((total * 100).to_integral_value(rounding=ROUND_HALF_EVEN)), left_out


def influence(
    session: Session, principal: Principal, campaign_ids: list[uuid.UUID], currency: str
) -> dict[uuid.UUID, Influence]:
    """Per campaign the principal may see: leads, pipeline and revenue in `currency` (cents)."""
    found = campaign_influence(session, principal, campaign_ids)
    if not found:
        return {}
    converter = Converter.for_company(session, principal.company_id)
    out: dict[uuid.UUID, Influence] = {}
    for campaign_id, figures in found.items():
        pipeline, pipeline_left = _in_budget_currency(figures.pipeline, currency, converter)
        revenue, revenue_left = _in_budget_currency(figures.revenue, currency, converter)
        out[campaign_id] = Influence(
            figures.leads,
            pipeline,
            revenue,
            not_converted=frozenset(pipeline_left | revenue_left),
        )
    return out
