"""Coterie's side of a synced record, as the connection's principal sees it and may write it.

`read` gives the mapped fields' current canonical values, through the gate (`records.service`
reads as the principal: partner fields arrive masked unless shared with my company now).
`write` applies values coming from the CRM: my space with a conditional write at the version
read (a person editing meanwhile makes it fail with 412, and the record is merged again later),
the shared core only when my company owns the record. `create` makes a new record from a CRM
record. Nothing here commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.models.sync import LinkState, SyncLink
from coterie.records import service
from coterie.records.schemas import RecordCreate, RecordOut, RecordPatch
from coterie.sync.connectors.base import RemoteRef
from coterie.sync.mapping import FieldMap, canonical

_CORE_ATTRIBUTES = ("title", "customer_name", "customer_domain", "description")


@dataclass(frozen=True)
class LocalRecord:
    record: RecordOut
    values: dict[str, Any]  # field ref -> canonical value
    space_version: int | None
    currency: str | None
    owned: bool


def _linked_remote(session: Session, connection_id: uuid.UUID, record_id: uuid.UUID) -> Any:
    link = session.scalar(
        select(SyncLink).where(
            SyncLink.connection_id == connection_id,
            SyncLink.record_id == record_id,
            SyncLink.state == LinkState.LINKED.value,
        )
    )
    if link is None or link.remote_id is None:
        return None
    return f"{link.remote_object}:{link.remote_id}"


def read(
    session: Session,
    actor: Actor,
    connection_id: uuid.UUID,
    kind: str,
    record_id: uuid.UUID,
    fields: list[FieldMap],
) -> LocalRecord:
    """Raises a 404 Problem when the principal may not see the record (any more)."""
    record = service.read(session, actor, kind, record_id)
    return present(
        actor, record, fields, lambda account_id: _linked_remote(session, connection_id, account_id)
    )


def present(
    actor: Actor,
    record: RecordOut,
    fields: list[FieldMap],
    account_of: Callable[[uuid.UUID], Any],
) -> LocalRecord:
    """The mapped values of a record as `actor` was shown it (`record.account` is the account's
    CRM reference, given by `account_of`)."""
    mine = next((s for s in record.spaces if s.is_mine), None)
    spaces = {s.company_id: s for s in record.spaces if not s.is_mine}
    values: dict[str, Any] = {}
    for field in fields:
        ref = field.local
        if ref == "record.account":
            values[ref] = account_of(record.account_id) if record.account_id else None
        elif field.is_core:
            values[ref] = canonical(getattr(record, ref.removeprefix("record.")))
        elif field.is_partner:
            _, company, key = ref.split(".")
            space = spaces.get(uuid.UUID(company))
            values[ref] = canonical(space.fields.get(key)) if space else None
        else:
            key = field.space_key or ""
            values[ref] = canonical(mine.fields.get(key)) if mine else None
    currency = mine.fields.get("currency") if mine else None
    return LocalRecord(
        record=record,
        values=values,
        space_version=mine.version if mine else None,
        currency=str(currency) if currency else None,
        owned=record.owner_company_id == actor.company_id,
    )


def local_record_of(
    session: Session, connection_id: uuid.UUID, remote_object: str, ref: Any
) -> uuid.UUID | None:
    """The Coterie record linked to a CRM reference (an opportunity's account)."""
    if isinstance(ref, RemoteRef):
        remote_object, remote_id = ref.object, ref.remote_id
    elif isinstance(ref, str) and ":" in ref:
        remote_object, remote_id = ref.rsplit(":", 1)
    else:
        return None
    return session.scalar(
        select(SyncLink.record_id).where(
            SyncLink.connection_id == connection_id,
            SyncLink.remote_object == remote_object,
            SyncLink.remote_id == remote_id,
            SyncLink.state == LinkState.LINKED.value,
        )
    )


def _split(
    session: Session, connection_id: uuid.UUID, changes: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    core: dict[str, Any] = {}
    space: dict[str, Any] = {}
    for ref, value in changes.items():
        if ref == "record.account":
            core["account_id"] = (
                local_record_of(session, connection_id, "", value) if value else None
            )
        elif ref.startswith("record."):
            attribute = ref.removeprefix("record.")
            if attribute in _CORE_ATTRIBUTES:
                core[attribute] = (
                    value if value is not None or attribute == "customer_domain" else ""
                )
        elif ref.startswith("space."):
            space[ref.removeprefix("space.")] = value
    return core, space


def write(
    session: Session,
    actor: Actor,
    connection_id: uuid.UUID,
    local: LocalRecord,
    changes: dict[str, Any],
) -> list[str]:
    """Apply CRM values (field ref -> canonical value) to Coterie; returns the refs written.
    Core fields of a record my company does not own are skipped (only its owner edits them)."""
    core, space = _split(session, connection_id, changes)
    written: list[str] = []
    record = local.record
    if core and local.owned:
        service.update_core(
            session, actor, record.kind, record.id, RecordPatch(**core), record.version
        )
        written += [ref for ref in changes if ref.startswith("record.")]
    if space and local.space_version is not None:
        service.update_my_space(session, actor, record.kind, record.id, space, local.space_version)
        written += [ref for ref in changes if ref.startswith("space.")]
    return written


def create(
    session: Session,
    actor: Actor,
    connection_id: uuid.UUID,
    kind: str,
    values: dict[str, Any],
) -> uuid.UUID:
    """A new record owned by my company, from a CRM record's mapped values."""
    core, space = _split(session, connection_id, values)
    title = core.pop("title", None) or core.get("customer_name") or "Untitled from CRM"
    data = RecordCreate(
        title=title,
        customer_name=core.get("customer_name") or "",
        customer_domain=core.get("customer_domain") or None,
        account_id=core.get("account_id"),
        description=core.get("description") or "",
        fields={k: v for k, v in space.items() if v is not None},
    )
    return service.create(session, actor, kind, data).id
