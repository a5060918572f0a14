"""Comments, mentions, the record change log and notifications."""

from __future__ import annotations
