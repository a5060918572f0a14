"""Every router of authentication: tokens (API), sign-in and sign-up pages, token and preference
settings pages."""

from __future__ import annotations

from coterie.auth import api, pages, settings_pages
from coterie.kit.routing import DomainRoutes

ROUTES = DomainRoutes(api=(api.router,), pages=(pages.router, settings_pages.router))
