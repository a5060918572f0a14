"""Every router of CRM sync: the integrations API (with the webhook receiver) and the
Settings > Integrations pages."""

from __future__ import annotations

from coterie.kit.routing import DomainRoutes
from coterie.sync import api, pages

ROUTES = DomainRoutes(api=(api.router,), pages=(pages.router,))
