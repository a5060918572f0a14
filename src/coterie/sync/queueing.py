"""Record writes queue CRM pushes, in the write's own transaction (the outbox).

Subscribed to the record hooks at start-up (`coterie.wiring`): when a record is created, its
core or a space changes, or a company's participation changes, every active connection of a
participating company that maps the record's kind gets an outbox row on channel `crm`
naming the record. The row is delivered by the worker (`coterie.sync.push.deliver`), which
reads the record as it is *then*, through the gate: the payload carries no values, so a value
unshared in the meantime never leaves. The connection whose own pull made the write is skipped
(`origin`): that is how a CRM edit does not bounce back to the CRM it came from.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.authz import gate
from coterie.kit import origin
from coterie.models.sync import ConnectionStatus, SyncConnection, SyncMapping
from coterie.outbox import store
from coterie.records import hooks
from coterie.sync.labels import crm_label

CHANNEL = "crm"
TOPIC = "crm.push"
_ORIGIN = "coterie.sync.origin"


def set_origin(session: Session, connection_id: uuid.UUID | None) -> None:
    """Mark the session's writes as made by this connection's pull (None: by a person); the
    change log then names the CRM beside the admin the sync writes as."""
    if connection_id is None:
        session.info.pop(_ORIGIN, None)
        origin.set_via(session, None)
        return
    session.info[_ORIGIN] = connection_id
    connection = session.get(SyncConnection, connection_id)
    origin.set_via(session, crm_label(connection.kind) if connection else None)


def _connections(session: Session, kind: str) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(connection id, company id) of every active connection mapping `kind`."""
    rows = session.execute(
        select(SyncConnection.id, SyncConnection.company_id)
        .join(SyncMapping, SyncMapping.connection_id == SyncConnection.id)
        .where(
            SyncConnection.status == ConnectionStatus.ACTIVE.value,
            SyncMapping.kind == kind,
            SyncMapping.enabled.is_(True),
        )
    ).all()
    return [(row[0], row[1]) for row in rows]


def queue_push(
    session: Session,
    connection_id: uuid.UUID,
    company_id: uuid.UUID,
    kind: str,
    record_id: uuid.UUID,
    because: str,
) -> uuid.UUID:
    return store.add(
        session,
        channel=CHANNEL,
        topic=TOPIC,
        recipient=str(connection_id),
        payload={"connection_id": str(connection_id), "kind": kind, "record_id": str(record_id)},
        company_id=company_id,
        key=f"crm:{connection_id}:{record_id}:{because}",
    )


def _queue(
    session: Session,
    actor: Actor,
    kind: str,
    record_id: uuid.UUID,
    because: str,
    *,
    extra_companies: frozenset[uuid.UUID] = frozenset(),
) -> None:
    connections = _connections(session, kind)
    if not connections:
        return
    origin = session.info.get(_ORIGIN)
    companies = (
        {
            p.company_id
            for p in gate.participants(session, actor.principal, kind, [record_id])
            if p.status == "active"
        }
        | {actor.company_id}
        | extra_companies
    )
    for connection_id, company_id in connections:
        if company_id in companies and connection_id != origin:
            queue_push(session, connection_id, company_id, kind, record_id, because)


def _record_created(event: hooks.RecordCreating) -> None:
    space = event.space
    _queue(event.session, event.actor, event.kind, space.record_id, "created")


def _core_changed(event: hooks.CoreChanged) -> None:
    record = event.record
    _queue(event.session, event.actor, record.kind, record.id, f"core:{record.version}")


def _space_changed(event: hooks.SpaceChanged) -> None:
    space = event.space
    because = f"space:{space.company_id}:{space.version}"
    _queue(event.session, event.actor, event.kind, space.record_id, because)


def _participant_status(event: hooks.ParticipantStatus) -> None:
    # the company that left or was removed no longer sees the record: its connection is told
    # too, and applies the mapping's "when a record leaves Coterie" rule
    because = f"participant:{event.company_id}:{event.after}:{uuid.uuid4()}"
    _queue(
        event.session,
        event.actor,
        event.kind,
        event.record_id,
        because,
        extra_companies=frozenset({event.company_id}),
    )


def install() -> None:
    hooks.record_creating.subscribe(_record_created)
    hooks.core_changed.subscribe(_core_changed)
    hooks.space_changed.subscribe(_space_changed)
    hooks.participant_status.subscribe(_participant_status)
