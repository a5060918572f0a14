"""Links and their shadows: finding, creating, claiming (one worker per record at a time) and
saving what both sides agreed on. Every state change is a conditional UPDATE or an INSERT
guarded by a unique constraint, so two workers never both link a record or both win a claim.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coterie.db import utcnow
from coterie.models.sync import LinkState, SyncLink, SyncShadow
from coterie.sync.merge import Shadow

LEASE = timedelta(seconds=120)


def by_record(session: Session, connection_id: uuid.UUID, record_id: uuid.UUID) -> SyncLink | None:
    return session.scalar(
        select(SyncLink).where(
            SyncLink.connection_id == connection_id, SyncLink.record_id == record_id
        )
    )


def by_remote(
    session: Session, connection_id: uuid.UUID, remote_object: str, remote_id: str
) -> SyncLink | None:
    return session.scalar(
        select(SyncLink).where(
            SyncLink.connection_id == connection_id,
            SyncLink.remote_object == remote_object,
            SyncLink.remote_id == remote_id,
        )
    )


def claims_on(
    session: Session, connection_id: uuid.UUID, remote_object: str, remote_ids: list[str]
) -> tuple[set[str], dict[str, set[str]]]:
    """Of these CRM records: those already linked to a Coterie record (any state), and those
    waiting for a person to choose among Coterie records (with the candidates' ids)."""
    if not remote_ids:
        return set(), {}
    rows = session.execute(
        select(SyncLink.remote_id, SyncLink.record_id, SyncLink.candidates).where(
            SyncLink.connection_id == connection_id,
            SyncLink.remote_object == remote_object,
            SyncLink.remote_id.in_(remote_ids),
        )
    ).all()
    taken = {row[0] for row in rows if row[1] is not None}
    waiting = {
        row[0]: {str(c.get("record_id")) for c in row[2] or []} for row in rows if row[1] is None
    }
    return taken, waiting


def create(
    session: Session,
    *,
    connection_id: uuid.UUID,
    record_id: uuid.UUID | None,
    kind: str,
    remote_object: str,
    remote_id: str | None,
    state: LinkState = LinkState.LINKED,
    candidates: list[dict[str, Any]] | None = None,
    leased: bool = False,
) -> SyncLink | None:
    """A new link in a savepoint; None when another worker linked the record or the remote
    record first (the unique constraints decide)."""
    link = SyncLink(
        id=uuid.uuid4(),
        connection_id=connection_id,
        record_id=record_id,
        kind=kind,
        remote_object=remote_object,
        remote_id=remote_id,
        state=state.value,
        candidates=candidates or [],
        lease_until=utcnow() + LEASE if leased else None,
    )
    try:
        with session.begin_nested():
            session.add(link)
            session.flush()
    except IntegrityError:
        return None
    return link


def claim(session: Session, link: SyncLink, now: datetime | None = None) -> bool:
    """Lease the link for this worker (a conditional UPDATE); False when another holds it."""
    now = now or utcnow()
    result = session.execute(
        update(SyncLink)
        .where(
            SyncLink.id == link.id,
            or_(SyncLink.lease_until.is_(None), SyncLink.lease_until < now),
        )
        .values(lease_until=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.refresh(link)
    return True


def release(session: Session, link_id: uuid.UUID) -> None:
    session.execute(
        update(SyncLink)
        .where(SyncLink.id == link_id)
        .values(lease_until=None)
        .execution_options(synchronize_session=False)
    )


def shadows(session: Session, link_id: uuid.UUID) -> dict[str, Shadow]:
    rows = session.scalars(select(SyncShadow).where(SyncShadow.link_id == link_id))
    return {row.field: Shadow(row.local_value, row.remote_value) for row in rows}


def save_shadows(
    session: Session, link_id: uuid.UUID, values: dict[str, Shadow], remote_version: str | None
) -> None:
    if not values:
        return
    existing = {
        row.field: row
        for row in session.scalars(
            select(SyncShadow).where(
                SyncShadow.link_id == link_id, SyncShadow.field.in_(list(values))
            )
        )
    }
    now = utcnow()
    for field, shadow in values.items():
        row = existing.get(field)
        if row is None:
            session.add(
                SyncShadow(
                    link_id=link_id,
                    field=field,
                    local_value=shadow.local,
                    remote_value=shadow.remote,
                    remote_version=remote_version,
                    synced_at=now,
                )
            )
        else:
            row.local_value = shadow.local
            row.remote_value = shadow.remote
            row.remote_version = remote_version
            row.synced_at = now


def forget(session: Session, link_ids: Iterable[uuid.UUID]) -> None:
    ids = list(link_ids)
    if ids:
        session.execute(delete(SyncLink).where(SyncLink.id.in_(ids)))
