"""Every router of activity: comments, timeline and notifications (API and pages)."""

from __future__ import annotations

from coterie.activity import api, pages
from coterie.kit.routing import DomainRoutes

ROUTES = DomainRoutes(api=(api.router,), pages=(pages.router,))
