"""Every router of company exports: the API and the settings tab."""

from __future__ import annotations

from coterie.company_export import api, pages
from coterie.kit.routing import DomainRoutes

ROUTES = DomainRoutes(api=(api.router,), pages=(pages.router,))
