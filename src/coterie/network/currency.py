"""A company's currency view: amounts converted to its own currency with its dated rates.

Each company keeps its own exchange rates (`exchange_rates`): 1 unit of a currency is `rate`
units of the company's currency from `valid_from` on. Conversion uses the latest rate on or
before the day asked; an amount with no such rate is not converted (callers report it apart,
never guess).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie.models import Company
from coterie.models.cosell import ExchangeRate

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Converter:
    currency: str  # the company's own currency
    rates: dict[str, list[tuple[date, Decimal]]] = field(default_factory=dict)  # by date, asc

    @classmethod
    def for_company(cls, session: Session, company_id: uuid.UUID) -> Converter:
        own = session.scalar(select(Company.currency).where(Company.id == company_id)) or "USD"
        rates: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
        for row in session.execute(
            select(ExchangeRate.currency, ExchangeRate.valid_from, ExchangeRate.rate)
            .where(ExchangeRate.company_id == company_id)
            .order_by(ExchangeRate.currency, ExchangeRate.valid_from)
        ):
            rates[row.currency].append((row.valid_from, Decimal(row.rate)))
        return cls(currency=own, rates=dict(rates))

    def rate(self, currency: str, on: date) -> tuple[Decimal, date | None] | None:
        """The rate for `currency` on `on` and the date it is valid from (None: same currency)."""
        if currency == self.currency:
            return Decimal(1), None
        found: tuple[Decimal, date | None] | None = None
        for valid_from, rate in self.rates.get(currency, []):
            if valid_from > on:
                break
            found = (rate, valid_from)
        return found

    def convert(self, amount: Decimal, currency: str | None, on: date) -> Decimal | None:
        """`amount` in the company's currency, rounded to cents; None when no rate applies."""
        rate = self.rate(currency or self.currency, on)
        if rate is None:
            return None
        return (amount * rate[0]).quantize(CENT, rounding=ROUND_HALF_EVEN)
