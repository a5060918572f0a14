"""Every router of sharing policies: teams and rules (API and settings pages)."""

from __future__ import annotations

from coterie.kit.routing import DomainRoutes
from coterie.policies import api, pages

ROUTES = DomainRoutes(api=(api.router,), pages=(pages.router,))
