"""Partner programs, joint sales plans, goals, plan links, account plans, exchange rates."""

from __future__ import annotations
