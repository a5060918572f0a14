"""The change log (`record_changes`): written by record writes, in their transaction.

Record writes announce what they do (`records.hooks`) and `activity.subscriptions` calls one
function per event: `core_changing` before the shared core's fields are set, `space_changed`
right after `values.apply` wrote a space (the old values come from the ORM's attribute history,
so nothing is read twice), `participant_status` after a company's participation changed (the
status is claimed in SQL, so the announcer says what it was). Values are stored as the gate
shows them (money as `{"value", "currency"}`, dates ISO, users as ids), so the timeline formats
them like the record page. Who may read a row is decided on read (`timeline`), never here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.db import utcnow
from coterie.fields.definitions import STANDARD_FIELDS
from coterie.kit import origin
from coterie.models import Record, Space
from coterie.models.activity import RecordChange

PARTICIPANT_PREFIX = "participant:"


def json_value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return value


def _add(
    session: Session,
    actor: Actor,
    kind: str,
    record_id: uuid.UUID,
    company_id: uuid.UUID | None,
    key: str,
    old: Any,
    new: Any,
) -> None:
    old, new = json_value(old), json_value(new)
    if old == new:
        return
    session.add(
        RecordChange(
            record_id=record_id,
            kind=kind,
            company_id=company_id,
            field_key=key,
            old_value=old,
            new_value=new,
            actor_user_id=actor.user_id,
            actor_company_id=actor.company_id,
            via=origin.via(session),
            at=utcnow(),
        )
    )


def core_changing(
    session: Session, actor: Actor, record: Record, changes: Mapping[str, Any]
) -> None:
    """Log the core fields `changes` is about to set on `record` (call before setting them)."""
    for key, new in changes.items():
        _add(session, actor, record.kind, record.id, None, key, getattr(record, key, None), new)


def _before(obj: Any, attribute: str) -> Any:
    history = inspect(obj).attrs[attribute].history
    if history.deleted:
        return history.deleted[0]
    if history.unchanged:
        return history.unchanged[0]
    return None


def _money(amount: Any, currency: Any) -> Any:
    if amount is None:
        return None
    return {"value": f"{Decimal(amount):.2f}", "currency": currency}


def space_changed(
    session: Session, actor: Actor, kind: str, space: Space, keys: Iterable[str]
) -> None:
    """Log the fields `keys` that `values.apply` just wrote into `space` (call before a flush)."""
    old_custom = _before(space, "custom") or {}
    new_custom = space.custom or {}
    for key in keys:
        standard = STANDARD_FIELDS.get(key)
        if standard is None:
            old, new = old_custom.get(key), new_custom.get(key)
        elif key == "amount":
            old = _money(_before(space, "amount"), _before(space, "currency"))
            new = _money(space.amount, space.currency)
        else:
            old, new = _before(space, standard.column), getattr(space, standard.column)
        _add(session, actor, kind, space.record_id, space.company_id, key, old, new)


def participant_status(
    session: Session,
    actor: Actor,
    kind: str,
    record_id: uuid.UUID,
    company_id: uuid.UUID,
    old: str | None,
    new: str,
) -> None:
    """Log a company's new participation status (invited, active, declined, left, removed)."""
    _add(session, actor, kind, record_id, None, f"{PARTICIPANT_PREFIX}{company_id}", old, new)
