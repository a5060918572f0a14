"""Cursor (keyset) pagination: stable pages over any ordered query, opaque cursors."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from coterie.kit import text_input
from coterie.kit.problems import invalid

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class SortKey:
    """One ordering column; `is_uuid` restores UUID values from the cursor."""

    column: ColumnElement[Any] | QueryableAttribute[Any]
    is_uuid: bool = False


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps([str(v) if isinstance(v, uuid.UUID) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, keys: Sequence[SortKey]) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = text_input.loads(base64.urlsafe_b64decode(padded.encode()), "query.cursor")
        if not isinstance(values, list) or len(values) != len(keys):
            raise ValueError("wrong shape")
        return [_restore(v, k) for v, k in zip(values, keys, strict=True)]
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise invalid("query.cursor", "is not a cursor this list gave out") from exc


def _restore(value: Any, key: SortKey) -> Any:
    """A cursor value as the column's type, refusing anything the database would choke on."""
    if key.is_uuid:
        if not isinstance(value, str):
            raise TypeError("not a UUID")
        return uuid.UUID(value)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise TypeError("not a scalar")
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("NUL character")
    try:
        expected = key.column.type.python_type
    except NotImplementedError:
        return value
    if expected is not object and not isinstance(value, expected):
        raise TypeError(f"not a {expected.__name__}")
    return value


def check_limit(limit: int) -> int:
    if limit < 1 or limit > MAX_LIMIT:
        raise invalid("query.limit", f"must be between 1 and {MAX_LIMIT}")
    return limit


def _after(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after `values` in ascending (k1, k2, ...) order, written portably."""
    clauses: list[ColumnElement[bool]] = []
    for i, key in enumerate(keys):
        equal_prefix = [keys[j].column == values[j] for j in range(i)]
        clauses.append(and_(*equal_prefix, key.column > values[i]))
    return or_(*clauses)


def paginate(
    session: Session,
    statement: Select[T],
    keys: Sequence[SortKey],
    *,
    limit: int,
    cursor: str | None,
    key_of: Any,
) -> tuple[list[T], str | None]:
    """One page of `statement` ordered by `keys`; `key_of(item)` gives an item's key values."""
    check_limit(limit)
    if cursor:
        statement = statement.where(_after(keys, decode_cursor(cursor, keys)))
    statement = statement.order_by(*(k.column for k in keys)).limit(limit + 1)
    rows = list(session.scalars(statement).unique().all())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(key_of(rows[-1]))
