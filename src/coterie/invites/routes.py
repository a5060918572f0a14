"""Every router of invitations by e-mail (pages only; the JSON API has none yet)."""

from __future__ import annotations

from coterie.invites import pages
from coterie.kit.routing import DomainRoutes

ROUTES = DomainRoutes(pages=(pages.router,))
