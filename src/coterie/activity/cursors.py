"""Keyset cursors over (timestamp, id), shared by the timeline and notifications.

The timeline merges several tables: each is read with the same "strictly older than
(at, id)" condition, so one cursor continues all of them."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.sql.elements import ColumnElement

from coterie.kit.problems import invalid

Position = tuple[datetime, uuid.UUID]


def encode(position: Position) -> str:
    raw = json.dumps([position[0].isoformat(), str(position[1])])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(cursor: str | None) -> Position | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != 2:
            raise ValueError("wrong shape")
        at = datetime.fromisoformat(str(values[0]))
        if at.tzinfo is None:
            raise ValueError("naive time")
        return at, uuid.UUID(str(values[1]))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise invalid("query.cursor", "is not a cursor this list gave out") from exc


def beyond(
    at: Any, id_: Any, position: Position | None, *, newest_first: bool = True
) -> ColumnElement[bool] | None:
    """Rows strictly after `position` in (at, id) order, newest or oldest first (None: no
    condition)."""
    if position is None:
        return None
    if newest_first:
        return or_(at < position[0], and_(at == position[0], id_ < position[1]))
    return or_(at > position[0], and_(at == position[0], id_ > position[1]))
