"""Every router of spreadsheet import: the API and the pages."""

from __future__ import annotations

from coterie.kit.routing import DomainRoutes
from coterie.sync.imports import api, pages

ROUTES = DomainRoutes(api=(api.router,), pages=(pages.router,))
