"""The one compact currency note of a report page or dashboard, with its details on demand.

"Amounts in EUR, converted at your rates of 1 Dec 2026 · details": shown once per page (never
under every panel), and only when a chart or table on the page holds amounts. The details list
the viewer company's latest rate per currency (its own settings, read with a plain company
filter like `coterie.cosell.planning.rates`), how each amount is converted, and where the rates
are kept.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from coterie.cosell.planning.rates import list_rates
from coterie.reports.engine import RATE_POLICY


@dataclass(frozen=True)
class RateLine:
    currency: str
    rate: str  # "0.9200": 1 of `currency` in the viewer's currency
    valid_from: date
    older: int  # older dated rates of the currency, used for older close dates


@dataclass
class CurrencyNote:
    currency: str
    latest: date | None  # the newest rate's first day (None: no rate at all)
    rates: list[RateLine] = field(default_factory=list)
    policy: str = RATE_POLICY


def note(session: Session, company_id: uuid.UUID, currency: str) -> CurrencyNote:
    """The note for a viewer of `company_id`, whose amounts are shown in `currency`."""
    newest: dict[str, RateLine] = {}
    older: dict[str, int] = {}
    for rate in list_rates(session, company_id):  # by currency, newest first
        if rate.currency == currency:
            continue
        if rate.currency in newest:
            older[rate.currency] = older.get(rate.currency, 0) + 1
            continue
        newest[rate.currency] = RateLine(rate.currency, _rate(rate.rate), rate.valid_from, 0)
    lines = [
        RateLine(r.currency, r.rate, r.valid_from, older.get(r.currency, 0))
        for r in newest.values()
    ]
    latest = max((r.valid_from for r in lines), default=None)
    return CurrencyNote(currency=currency, latest=latest, rates=lines)


def _rate(value: Decimal) -> str:
    text = f"{value:.6f}".rstrip("0")
    return text + "00" if text.endswith(".") else text
