"""Every router of the shared-record core.

The record kinds' routes (`/{plural}`, `/{plural}/{record_id}` and below, API and pages) take
any segment after a kind's plural, where other domains serve literal paths of their own
(`/leads/nominations`): they are catch-all routers, mounted after every other domain's.
"""

from __future__ import annotations

from coterie.kit.routing import DomainRoutes
from coterie.records import (
    api,
    pages,
    participant_pages,
    participants_api,
    search_api,
    template_pages,
)

ROUTES = DomainRoutes(
    api=(search_api.router,),
    pages=(template_pages.router,),
    api_catch_all=(api.router, participants_api.router),
    pages_catch_all=(pages.router, participant_pages.router),
)
