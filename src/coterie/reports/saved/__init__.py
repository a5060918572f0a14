"""Saved reports: named definitions, their sharing, the report builder and the report pages."""
