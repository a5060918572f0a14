"""Every router of authentication: tokens (API), sign-in and sign-up pages, token and preference
settings pages."""

from __future__ import annotations

from coterie.auth import api
from coterie.kit.routing import DomainRoutes

ROUTES = DomainRoutes(api=(api.router,))
