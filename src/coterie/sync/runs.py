"""One run of a connection: pull what changed in the CRM, apply webhook events, notice deletes
the CRM does not report, and push the records my company sees that are not in the CRM yet.

A run claims the connection (a conditional UPDATE of `lease_until`: one run at a time, a run
killed mid-way is taken over once its lease ends) and records a `SyncRun` with its counts.
The change feed starts from the stored cursor widened by the connection's overlap window
(late commits and clock skew between the CRM's servers), pages until the CRM has no more, and
stores the cursor after each page. A rate limit pauses the connection until the time the CRM
gives; expired credentials put it in error until an admin reconnects; anything else ends the
run with its message and the next run starts again from the last stored page.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from coterie.config import Settings
from coterie.db import utcnow, writing_session
from coterie.models.sync import (
    ConnectionStatus,
    LinkState,
    SyncConnection,
    SyncCursor,
    SyncInboxEvent,
    SyncLink,
    SyncMapping,
    SyncRun,
)
from coterie.sync import bulk, connections, pull
from coterie.sync.connectors.base import (
    AuthExpired,
    Connector,
    Cursor,
    RateLimited,
    RemoteRecord,
    SyncError,
    Tombstone,
)
from coterie.sync.pauses import pause_for, spend

log = logging.getLogger(__name__)

PAGE = 200
RUN_LEASE = timedelta(minutes=10)
PROBE_BATCH = 100
PROBE_EVERY = timedelta(hours=1)
PROBED_AT = "probed_at"  # kept in the cursor's position beside the feed's own keys


@dataclass
class Summary:
    run_id: uuid.UUID | None
    pulled: int = 0
    pushed: int = 0
    created_local: int = 0
    created_remote: int = 0
    conflicts: int = 0
    waiting: int = 0
    errors: int = 0
    error: str | None = None
    budget_used: int | None = None  # API calls the CRM counts today, where it says


def _claim(session: Session, connection_id: uuid.UUID) -> bool:
    now = utcnow()
    result = session.execute(
        update(SyncConnection)
        .where(
            SyncConnection.id == connection_id,
            SyncConnection.status == ConnectionStatus.ACTIVE.value,
            or_(SyncConnection.lease_until.is_(None), SyncConnection.lease_until < now),
            or_(SyncConnection.paused_until.is_(None), SyncConnection.paused_until < now),
        )
        .values(lease_until=now + RUN_LEASE, last_run_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


def run(
    factory: sessionmaker[Session],
    settings: Settings,
    connection_id: uuid.UUID,
    connector: Connector | None = None,
) -> Summary | None:
    """Run the connection now; None when it is not due (another run holds it, it is paused)."""
    with writing_session(factory) as session:
        if not _claim(session, connection_id):
            session.rollback()
            return None
        connection = session.get(SyncConnection, connection_id)
        assert connection is not None  # noqa: S101 (claimed)
        row = SyncRun(connection_id=connection_id, started_at=utcnow())
        session.add(row)
        session.commit()
        run_id = row.id
        own = connector is None
        try:
            if connector is None:
                connector = connections.build_connector(settings, connection)
        except SyncError as exc:
            return _finish(
                factory, connection_id, run_id, Summary(run_id, errors=1, error=str(exc))
            )
    summary = Summary(run_id)
    try:
        _run(factory, connection_id, connector, summary)
    except RateLimited as exc:
        pause_for(factory, connection_id, exc)
        summary.error = f"The CRM asked us to wait: {exc}"
    except AuthExpired as exc:
        summary.error = (
            f"The CRM refused the credentials: {exc}. Reconnect on Settings > Integrations."
        )
        _set_status(factory, connection_id, ConnectionStatus.ERROR)
    except SyncError as exc:
        summary.error = str(exc)
        summary.errors += 1
    finally:
        summary.budget_used = connector.budget.used
        if own:
            connector.close()
    return _finish(factory, connection_id, run_id, summary)


def _set_status(
    factory: sessionmaker[Session], connection_id: uuid.UUID, status: ConnectionStatus
) -> None:
    with writing_session(factory) as session:
        session.execute(
            update(SyncConnection)
            .where(SyncConnection.id == connection_id)
            .values(status=status.value)
            .execution_options(synchronize_session=False)
        )
        session.commit()


def _finish(
    factory: sessionmaker[Session], connection_id: uuid.UUID, run_id: uuid.UUID, summary: Summary
) -> Summary:
    now = utcnow()
    with writing_session(factory) as session:
        row = session.get(SyncRun, run_id)
        if row is not None:
            row.finished_at = now
            row.pulled = summary.pulled
            row.pushed = summary.pushed
            row.created_local = summary.created_local
            row.created_remote = summary.created_remote
            row.conflicts = summary.conflicts
            row.errors = summary.errors
            row.error = summary.error
        connection = session.get(SyncConnection, connection_id)
        values: dict[str, object] = {"lease_until": None}
        if summary.budget_used is not None:
            values["budget_used"] = summary.budget_used
            values["budget_day"] = now.date().isoformat()
        if connection is not None:
            values["next_run_at"] = now + timedelta(seconds=connection.poll_seconds)
            if summary.error is None:
                values["last_success_at"] = now
                values["last_error"] = None
            else:
                values["last_error"] = summary.error
        session.execute(
            update(SyncConnection)
            .where(SyncConnection.id == connection_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        session.commit()
    return summary


def _run(
    factory: sessionmaker[Session], connection_id: uuid.UUID, connector: Connector, summary: Summary
) -> None:
    with writing_session(factory) as session:
        connection = session.get(SyncConnection, connection_id)
        assert connection is not None  # noqa: S101
        mapped = [(m.id, m.kind) for m in connections.mappings(session, connection_id)]
    # accounts first: an opportunity's account must be linked before the opportunity
    mapped.sort(key=lambda item: (item[1] != "account", item[1]))
    for mapping_id, _kind in mapped:
        _pull_feed(factory, connection_id, mapping_id, connector, summary)
        _apply_inbox(factory, connection_id, mapping_id, connector, summary)
        if not connector.capabilities.tombstones:
            _probe_deletes(factory, connection_id, mapping_id, connector, summary)
    for mapping_id, kind in mapped:
        _push_unlinked(factory, connection_id, mapping_id, kind, connector, summary)


def _context(
    session: Session, connection_id: uuid.UUID, mapping_id: uuid.UUID
) -> tuple[SyncConnection, SyncMapping]:
    connection = session.get(SyncConnection, connection_id)
    mapping = session.get(SyncMapping, mapping_id)
    assert connection is not None  # noqa: S101 (the run holds the connection)
    assert mapping is not None  # noqa: S101
    return connection, mapping


def _apply_one(
    factory: sessionmaker[Session],
    connection_id: uuid.UUID,
    mapping_id: uuid.UUID,
    remote: object,
    summary: Summary,
) -> None:
    counts = pull.Counts()
    with writing_session(factory) as session:
        connection, mapping = _context(session, connection_id, mapping_id)
        actor = connections.actor_of(session, connection)
        fields = connections.field_maps(mapping)
        if isinstance(remote, Tombstone):
            pull.tombstone(session, connection, mapping, remote)
        else:
            pull.apply(session, actor, connection, mapping, fields, remote, counts)  # type: ignore[arg-type]
        session.commit()
    summary.pulled += counts.pulled
    summary.created_local += counts.created_local
    summary.conflicts += counts.conflicts
    summary.waiting += counts.waiting


def _pull_feed(
    factory: sessionmaker[Session],
    connection_id: uuid.UUID,
    mapping_id: uuid.UUID,
    connector: Connector,
    summary: Summary,
) -> None:
    with writing_session(factory) as session:
        connection, mapping = _context(session, connection_id, mapping_id)
        budget = connection.daily_budget
        remote_object = mapping.remote_object
        stored = session.get(SyncCursor, (connection_id, remote_object))
        cursor = Cursor.from_dict(stored.position if stored else None)
        if cursor.since is not None:  # widen by the overlap window; seen versions are skipped
            cursor = Cursor(since=cursor.since - timedelta(seconds=connection.overlap_seconds))
    while True:
        page = connector.read_changes(remote_object, cursor, PAGE)
        seen = _seen_versions(factory, connection_id, remote_object, page.records)
        for remote in page.records:
            if remote.version and seen.get(remote.remote_id) == remote.version:
                continue  # our own write coming back, or the overlap re-reading it
            _apply_one(factory, connection_id, mapping_id, remote, summary)
        for gone in page.tombstones:
            _apply_one(factory, connection_id, mapping_id, gone, summary)
        cursor = page.cursor
        _store_cursor(factory, connection_id, remote_object, cursor)
        spend(connector, budget)
        if not page.more:
            break


def _seen_versions(
    factory: sessionmaker[Session],
    connection_id: uuid.UUID,
    remote_object: str,
    records: list[RemoteRecord],
) -> dict[str, str | None]:
    """The version last seen of each linked record of a page, in one query: a page of echoes
    (the first run after an initial load reads back everything it wrote) costs one statement."""
    if not records:
        return {}
    with factory() as session:
        rows = session.execute(
            select(SyncLink.remote_id, SyncLink.remote_version).where(
                SyncLink.connection_id == connection_id,
                SyncLink.remote_object == remote_object,
                SyncLink.state == LinkState.LINKED.value,
                SyncLink.remote_id.in_([r.remote_id for r in records]),
            )
        ).all()
    return {str(row[0]): row[1] for row in rows}


def _store_cursor(
    factory: sessionmaker[Session], connection_id: uuid.UUID, remote_object: str, cursor: Cursor
) -> None:
    with writing_session(factory) as session:
        _save_position(session, connection_id, remote_object, cursor.as_dict())
        session.commit()


def _save_position(
    session: Session, connection_id: uuid.UUID, remote_object: str, values: dict[str, Any]
) -> None:
    """Write these keys of the object's stored position, keeping the others (the feed's cursor
    and the delete probe's `PROBED_AT` share the row)."""
    row = session.get(SyncCursor, (connection_id, remote_object))
    if row is None:
        session.add(
            SyncCursor(connection_id=connection_id, remote_object=remote_object, position=values)
        )
    else:
        row.position = {**row.position, **values}
        row.updated_at = utcnow()


def _apply_inbox(
    factory: sessionmaker[Session],
    connection_id: uuid.UUID,
    mapping_id: uuid.UUID,
    connector: Connector,
    summary: Summary,
) -> None:
    with writing_session(factory) as session:
        _, mapping = _context(session, connection_id, mapping_id)
        remote_object = mapping.remote_object
        events = list(
            session.scalars(
                select(SyncInboxEvent)
                .where(
                    SyncInboxEvent.connection_id == connection_id,
                    SyncInboxEvent.remote_object == remote_object,
                    SyncInboxEvent.processed_at.is_(None),
                )
                .order_by(SyncInboxEvent.received_at)
                .limit(1000)
            )
        )
        event_ids = [e.id for e in events]
        wanted = sorted({e.remote_id for e in events})
    if not wanted:
        return
    # out of order or duplicated events do not matter: the CRM's current state is applied
    current = {r.remote_id: r for r in connector.fetch(remote_object, wanted)}
    for remote_id in wanted:
        found = current.get(remote_id)
        gone = Tombstone(remote_id=remote_id, object=remote_object)
        _apply_one(factory, connection_id, mapping_id, found or gone, summary)
    with writing_session(factory) as session:
        session.execute(
            update(SyncInboxEvent)
            .where(SyncInboxEvent.id.in_(event_ids))
            .values(processed_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        session.commit()


def _probe_deletes(
    factory: sessionmaker[Session],
    connection_id: uuid.UUID,
    mapping_id: uuid.UUID,
    connector: Connector,
    summary: Summary,
) -> None:
    """A CRM that reports no deletes: ask for every linked record (at most every `PROBE_EVERY`:
    that is a call per `PROBE_BATCH` links); the missing ones are gone."""
    now = utcnow()
    with writing_session(factory) as session:
        _, mapping = _context(session, connection_id, mapping_id)
        remote_object = mapping.remote_object
        stored = session.get(SyncCursor, (connection_id, remote_object))
        last = (stored.position or {}).get(PROBED_AT) if stored else None
        if last is not None and datetime.fromisoformat(last) > now - PROBE_EVERY:
            return
        _save_position(session, connection_id, remote_object, {PROBED_AT: now.isoformat()})
        session.commit()
        linked = list(
            session.scalars(
                select(SyncLink.remote_id).where(
                    SyncLink.connection_id == connection_id,
                    SyncLink.remote_object == remote_object,
                    SyncLink.state == LinkState.LINKED.value,
                    SyncLink.remote_id.is_not(None),
                )
            )
        )
    for start in range(0, len(linked), PROBE_BATCH):
        batch = [r for r in linked[start : start + PROBE_BATCH] if r]
        present = {r.remote_id for r in connector.fetch(remote_object, batch)}
        for remote_id in batch:
            if remote_id not in present:
                _apply_one(
                    factory, connection_id, mapping_id, Tombstone(remote_id, remote_object), summary
                )


def _push_unlinked(
    factory: sessionmaker[Session],
    connection_id: uuid.UUID,
    mapping_id: uuid.UUID,
    kind: str,
    connector: Connector,
    summary: Summary,
) -> None:
    """The initial load's other half: records my company sees that have no link yet, in
    chunks (`coterie.sync.bulk`), for at most half the run's lease."""
    deadline = time.monotonic() + RUN_LEASE.total_seconds() / 2
    counts = bulk.push_unlinked(factory, connection_id, mapping_id, kind, connector, deadline)
    summary.pushed += counts.pushed
    summary.created_remote += counts.created_remote
    summary.waiting += counts.waiting
    summary.errors += counts.errors


def due(session: Session) -> list[uuid.UUID]:
    """Active connections whose next run is due (the worker's poll)."""
    now = utcnow()
    return list(
        session.scalars(
            select(SyncConnection.id).where(
                SyncConnection.status == ConnectionStatus.ACTIVE.value,
                or_(SyncConnection.next_run_at.is_(None), SyncConnection.next_run_at <= now),
                or_(SyncConnection.paused_until.is_(None), SyncConnection.paused_until <= now),
            )
        )
    )
