"""Every router of marketing development funds: the API and the pages."""

from __future__ import annotations

from coterie.funds import api, pages
from coterie.kit.routing import DomainRoutes

ROUTES = DomainRoutes(api=(api.router,), pages=(pages.router,))
