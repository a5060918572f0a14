"""Every router of the CRM sync's people-facing decisions: the conflicts inbox and the record
page's "In your CRM" panel, API and pages."""

from __future__ import annotations

from coterie.kit.routing import DomainRoutes
from coterie.sync import inbox_api, inbox_pages

ROUTES = DomainRoutes(api=(inbox_api.router,), pages=(inbox_pages.router,))
