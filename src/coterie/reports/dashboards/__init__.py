"""Dashboards: ordered panels of saved reports, a filter bar, sharing, the default dashboards."""
