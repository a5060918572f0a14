"""Coterie: the shared system of record for partner ecosystems."""

__version__ = "0.1.0"
