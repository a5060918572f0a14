"""Every router of workflows: definitions, moves, tasks, saved filters (API), the board,
approvals, workflow settings, the workflow designer and the record panels (pages)."""

from __future__ import annotations

from coterie.kit.routing import DomainRoutes
from coterie.workflows import api, board_pages, designer_pages, pages

ROUTES = DomainRoutes(
    api=(api.router,), pages=(designer_pages.router, board_pages.router, pages.router)
)
