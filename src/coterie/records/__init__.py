"""Shared records: kinds, participants, spaces, templates and field values."""
