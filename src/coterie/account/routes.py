"""The account domain's routers: sign-in, sign-up, password reset, and the user's own settings
pages (profile, preferences, tokens)."""

from __future__ import annotations

from coterie.account import pages, settings_pages
from coterie.kit.routing import DomainRoutes

ROUTES = DomainRoutes(pages=(pages.router, settings_pages.router))
