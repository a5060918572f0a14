"""Every router of co-selling: the partner pipeline (leads, registrations), joint planning
(programs, plans, goals, account plans, exchange rates), the weekly review, ideas proposed to
programs, the solutions portfolio, and campaign attribution and solution links."""

from __future__ import annotations

from coterie.cosell.campaigns import api as campaigns_api
from coterie.cosell.campaigns import pages as campaigns_pages
from coterie.cosell.ideas import api as ideas_api
from coterie.cosell.ideas import pages as ideas_pages
from coterie.cosell.pipeline import api as pipeline_api
from coterie.cosell.pipeline import pages as pipeline_pages
from coterie.cosell.planning import api as planning_api
from coterie.cosell.planning import pages as planning_pages
from coterie.cosell.planning import rates_pages
from coterie.cosell.portfolio import api as portfolio_api
from coterie.cosell.portfolio import pages as portfolio_pages
from coterie.cosell.review import api as review_api
from coterie.cosell.review import pages as review_pages
from coterie.kit.routing import DomainRoutes

ROUTES = DomainRoutes(
    api=(
        pipeline_api.router,
        planning_api.router,
        review_api.router,
        ideas_api.router,
        portfolio_api.router,
        campaigns_api.router,
    ),
    pages=(
        pipeline_pages.router,
        review_pages.router,
        planning_pages.router,
        rates_pages.router,
        ideas_pages.router,
        portfolio_pages.router,
        campaigns_pages.router,
    ),
)
