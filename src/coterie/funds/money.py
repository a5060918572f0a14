"""Amounts at the edge: the API and the pages speak decimals (12.50), the tables integers in
cents (1250), so that sums and comparisons in SQL are exact on every database."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def to_cents(amount: Decimal) -> int:
    return int((amount.quantize(CENT, rounding=ROUND_HALF_UP) * 100).to_integral_value())


def from_cents(cents: int | None) -> Decimal | None:
    if cents is None:
        return None
    return (Decimal(cents) / 100).quantize(CENT)


def amount(cents: int) -> Decimal:
    """`from_cents` of an amount that is never missing."""
    return (Decimal(cents) / 100).quantize(CENT)


def shown(cents: int | None, currency: str) -> str:
    """An amount as a person reads it: "12,500.00 EUR"."""
    if cents is None:
        return "—"
    return f"{amount(cents):,.2f} {currency}"
