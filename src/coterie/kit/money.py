"""Money helpers: currency codes (ISO 4217)."""

from __future__ import annotations

import pycountry


def clean_currency(value: str) -> str:
    """`value` as an upper-case ISO 4217 currency code, or ValueError."""
    if not value.isascii() or pycountry.currencies.get(alpha_3=value.upper()) is None:
        raise ValueError("must be an ISO 4217 currency code, e.g. EUR")
    return value.upper()
