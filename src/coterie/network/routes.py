"""Every router of the network: companies, partnerships, users and invitations (API), home,
directory and network pages, company and user settings pages."""

from __future__ import annotations

from coterie.kit.routing import DomainRoutes
from coterie.network import api, audit_api, deliveries_routes, pages, settings_pages

ROUTES = DomainRoutes(
    api=(api.router, audit_api.router, deliveries_routes.api),
    pages=(pages.router, settings_pages.router, deliveries_routes.pages),
)
