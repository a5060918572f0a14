"""Every router of the audit log (API only)."""

from __future__ import annotations

from coterie.audit import api
from coterie.kit.routing import DomainRoutes

ROUTES = DomainRoutes(api=(api.router,))
