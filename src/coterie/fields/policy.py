"""What a company shows of its own spaces: the fields of its template it keeps visible."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OwnFieldPolicy:
    """What the principal's own company shows of its own spaces (its template, hide-private)."""

    visible_standard: frozenset[str]
    visible_custom: frozenset[str]
