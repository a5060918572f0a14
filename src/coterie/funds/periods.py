"""Whether a budget's period is open: not closed by its funder and not ended (UTC today)."""

from __future__ import annotations

from datetime import date

from coterie.db import utcnow
from coterie.models.funds import FundBudget


def today() -> date:
    return utcnow().date()


def is_closed(budget: FundBudget) -> bool:
    return budget.closed_at is not None or budget.period_end < today()
