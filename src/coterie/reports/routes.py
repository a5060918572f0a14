"""Every router of reports: downloads (CSV, XLSX, QBR deck), running a definition, saved reports
and dashboards (API and pages)."""

from __future__ import annotations

from coterie.kit.routing import DomainRoutes
from coterie.reports import api as run_api
from coterie.reports.dashboards import api as dashboards_api
from coterie.reports.dashboards import pages as dashboards_pages
from coterie.reports.exports import api as exports_api
from coterie.reports.exports import pages as exports_pages
from coterie.reports.saved import api as saved_api
from coterie.reports.saved import pages as saved_pages

ROUTES = DomainRoutes(
    api=(exports_api.router, run_api.router, saved_api.router, dashboards_api.router),
    pages=(exports_pages.router, saved_pages.router, dashboards_pages.router),
)
