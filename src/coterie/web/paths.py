"""Reading identifiers out of page URLs and form fields: a malformed one is "not found"."""

from __future__ import annotations

import uuid

from coterie.kit.problems import not_found


def parse_id(value: str, what: str) -> uuid.UUID:
    """A UUID from a URL segment or form field; anything else is "not found", never a 500."""
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError) as exc:
        raise not_found(what) from exc
