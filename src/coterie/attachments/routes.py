"""Every router of attachments (API and pages)."""

from __future__ import annotations

from coterie.attachments import api, pages
from coterie.kit.routing import DomainRoutes

ROUTES = DomainRoutes(api=(api.router,), pages=(pages.router,))
