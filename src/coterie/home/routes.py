"""The home page's router."""

from __future__ import annotations

from coterie.home import page
from coterie.kit.routing import DomainRoutes

ROUTES = DomainRoutes(pages=(page.router,))
