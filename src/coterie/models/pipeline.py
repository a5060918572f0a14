"""Lead decisions and deal registrations."""

from __future__ import annotations
