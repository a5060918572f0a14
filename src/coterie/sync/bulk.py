"""The initial load's batch path: push the records a connection's company sees that have no link
yet, a chunk at a time, instead of one `push.deliver` per record.

Per chunk of `CHUNK` records (in record id order, so every run makes progress):
1. The records are read as the connection's principal through the gate (`gate.visible`, as
   rows), and their spaces by `gate.spaces` with the own-field policy `records.service.present`
   applies, so partner fields arrive masked exactly as for one record; a record the principal
   may not see is never read, let alone sent.
2. Match-or-create, with one batched candidate search (`Connector.find_candidates_many`: external
   ids in one query; the name and domain searches only when the CRM holds records without a
   co-sell id). `push.choose` decides as for one record: a record with no candidate at all is
   created in the CRM by this path; one that matches a CRM record (by external id, domain or
   name), waits among several, or needs its account pushed first goes through `push.deliver`,
   the per-record path with its merge before the first write.
3. The links of the records to create are inserted, leased, and committed before any remote
   write; then one `Connector.upsert_many` keyed by the co-sell external id; then the remote
   ids, versions and shadows of the whole chunk are saved in one transaction and the leases
   released. A crash after the remote write leaves links without a remote id: the next run
   completes them one by one through `push.deliver`, whose upsert by external id finds the CRM
   record written before the crash instead of creating a second one. A failed call releases
   the chunk's leases at once, so the next run need not wait for them to lapse.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from coterie.auth.principal import Actor
from coterie.authz import gate
from coterie.db import utcnow, writing_session
from coterie.fields import templates
from coterie.models import Record, RecordAccess
from coterie.models.sync import LinkState, SyncConnection, SyncLink, SyncShadow
from coterie.records.schemas import RecordOut, SpaceOut
from coterie.sync import connections, links, localview, push
from coterie.sync.connectors.base import (
    AuthExpired,
    Connector,
    MatchProbe,
    RateLimited,
    RemoteRecord,
    SyncError,
    TransientError,
    WriteResult,
)
from coterie.sync.localview import LocalRecord
from coterie.sync.mapping import FieldMap, canonical
from coterie.sync.pauses import spend

CHUNK = 200
LINKS = cast(Table, SyncLink.__table__)
SHADOWS = cast(Table, SyncShadow.__table__)
PER_RECORD_CAP = 2000  # records sent through `push.deliver` in one run (matches, resumes)


@dataclass
class Counts:
    pushed: int = 0
    created_remote: int = 0
    waiting: int = 0
    errors: int = 0
    per_record: list[uuid.UUID] = field(default_factory=list)


@dataclass(frozen=True)
class _Chunk:
    locals: list[LocalRecord]
    last_id: uuid.UUID | None


def push_unlinked(
    factory: sessionmaker[Session],
    connection_id: uuid.UUID,
    mapping_id: uuid.UUID,
    kind: str,
    connector: Connector,
    deadline: float,
) -> Counts:
    """Push every visible record of `kind` without a link (until `deadline`, a monotonic
    time), then complete the links a crash left without a remote id."""
    counts = Counts()
    with writing_session(factory) as session:
        mapping = connections.mapping_for(session, connection_id, kind)
        if mapping is None or mapping.id != mapping_id or not mapping.create_in_crm:
            return counts
        remote_object = mapping.remote_object
        fields = connections.field_maps(mapping)
        connection = session.get(SyncConnection, connection_id)
        budget = connection.daily_budget if connection else None
        session.rollback()
    unfinished = _unfinished(factory, connection_id, kind)
    target = _Target(factory, connection_id, kind, remote_object, fields, connector)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-remote") as remote:
        _pipeline(target, remote, budget, deadline, counts)
    for record_id in [*unfinished, *counts.per_record][:PER_RECORD_CAP]:
        spend(connector, budget)
        _deliver_one(factory, connection_id, kind, record_id, connector, counts)
    return counts


def _unfinished(
    factory: sessionmaker[Session], connection_id: uuid.UUID, kind: str
) -> list[uuid.UUID]:
    """Records whose link was created but whose remote write never completed (a crash), and
    that no worker holds now."""
    now = utcnow()
    with writing_session(factory) as session:
        found = list(
            session.scalars(
                select(SyncLink.record_id)
                .where(
                    SyncLink.connection_id == connection_id,
                    SyncLink.kind == kind,
                    SyncLink.state == LinkState.LINKED.value,
                    SyncLink.remote_id.is_(None),
                    SyncLink.record_id.is_not(None),
                    or_(SyncLink.lease_until.is_(None), SyncLink.lease_until < now),
                )
                .order_by(SyncLink.record_id)
                .limit(PER_RECORD_CAP)
            )
        )
        session.rollback()
    return [record_id for record_id in found if record_id is not None]


def _read_chunk(
    factory: sessionmaker[Session],
    connection_id: uuid.UUID,
    kind: str,
    fields: list[FieldMap],
    after: uuid.UUID | None,
) -> _Chunk:
    """The next `CHUNK` visible records without a link, as the principal sees them: one
    statement for the records (through `gate.visible`), one for their spaces (`gate.spaces`,
    masked field by field as every read is), one for their accounts' links."""
    with factory() as session:  # reads only: no write lock (SQLite's BEGIN IMMEDIATE)
        connection = session.get(SyncConnection, connection_id)
        assert connection is not None  # noqa: S101 (the run holds the connection)
        actor = connections.actor_of(session, connection)
        principal = actor.principal
        linked = select(SyncLink.record_id).where(
            SyncLink.connection_id == connection_id, SyncLink.record_id.is_not(None)
        )
        statement = (
            gate.visible(principal, kind)
            .with_only_columns(*_CORE_COLUMNS)
            .where(RecordAccess.record_id.not_in(linked))
            .order_by(RecordAccess.record_id)
            .limit(CHUNK)
        )
        if after is not None:
            statement = statement.where(RecordAccess.record_id > after)
        rows = session.execute(statement).all()
        if not rows:
            session.rollback()
            return _Chunk([], None)
        shown = _present(session, actor, kind, rows)
        accounts = _linked_accounts(session, connection_id, shown)
        locals_ = [localview.present(actor, record, fields, accounts.get) for record in shown]
        session.rollback()
    return _Chunk(locals_, rows[-1].id)


_CORE_COLUMNS = (
    Record.id,
    Record.kind,
    Record.title,
    Record.customer_name,
    Record.customer_domain,
    Record.account_id,
    Record.owner_company_id,
    Record.motion,
    Record.description,
    Record.joint_stage,
    Record.source_record_id,
    Record.version,
    Record.created_at,
    Record.updated_at,
)


def _present(
    session: Session, actor: Actor, kind: str, rows: Sequence[Row[*tuple[Any, ...]]]
) -> list[RecordOut]:
    """The records of `rows` with their spaces as `records.service.present` masks them (the
    same `gate.spaces` statement and own-field policy), without what a mapping never reads
    (participants, company names, field labels, the source company): the load reads rows,
    not ORM entities, and builds no more than it sends."""
    principal = actor.principal
    policy = templates.load(session, actor.company_id, kind).own_policy(principal.hide_private)
    spaces: dict[uuid.UUID, list[SpaceOut]] = {row.id: [] for row in rows}
    for space in gate.spaces(session, principal, kind, list(spaces), policy):
        spaces[space.record_id].append(
            SpaceOut.model_construct(
                company_id=space.company_id,
                company_name="",
                is_mine=space.is_mine,
                version=space.version,
                fields={**space.standard, **space.custom},
                labels={},
            )
        )
    return [
        RecordOut.model_construct(
            **row._asdict(), source_company=None, participants=[], spaces=spaces[row.id]
        )
        for row in rows
    ]


def _linked_accounts(
    session: Session, connection_id: uuid.UUID, records: Sequence[RecordOut]
) -> dict[uuid.UUID, str]:
    """Account record id -> "object:remote id", for the accounts already in the CRM."""
    wanted = {r.account_id for r in records if r.account_id is not None}
    if not wanted:
        return {}
    rows = session.execute(
        select(SyncLink.record_id, SyncLink.remote_object, SyncLink.remote_id).where(
            SyncLink.connection_id == connection_id,
            SyncLink.record_id.in_(wanted),
            SyncLink.state == LinkState.LINKED.value,
            SyncLink.remote_id.is_not(None),
        )
    )
    return {record_id: f"{obj}:{remote_id}" for record_id, obj, remote_id in rows if record_id}


def _probe(local: LocalRecord) -> MatchProbe:
    record = local.record
    return MatchProbe(external_id=str(record.id), name=record.title, domain=record.customer_domain)


def _needs_account_first(local: LocalRecord) -> bool:
    return (
        local.record.account_id is not None
        and "record.account" in local.values
        and local.values["record.account"] is None
    )


@dataclass(frozen=True)
class _Target:
    """Where a load writes: our database (`factory`) and the connection's CRM object."""

    factory: sessionmaker[Session]
    connection_id: uuid.UUID
    kind: str
    remote_object: str
    fields: list[FieldMap]
    connector: Connector


@dataclass(frozen=True)
class _InFlight:
    """A chunk whose links are committed and whose upsert the remote worker is sending."""

    answer: Future[list[WriteResult | SyncError]]
    claimed: list[tuple[LocalRecord, uuid.UUID]]
    rows: list[tuple[str, dict[str, Any]]]


def _pipeline(
    target: _Target, remote: ThreadPoolExecutor, budget: int | None, deadline: float, counts: Counts
) -> None:
    """Chunk after chunk, reading the next chunk from our database while the CRM answers the
    previous chunk's upsert: every CRM call runs on the one `remote` worker, in order, and every
    database statement on this thread. At most one chunk is in flight, and a chunk's remote ids
    and shadows are saved only once its upsert answered; a failure lands (or releases) the chunk
    in flight and stops the load."""
    after: uuid.UUID | None = None
    flight: _InFlight | None = None
    try:
        while time.monotonic() < deadline:
            spend(target.connector, budget)
            chunk = _read_chunk(
                target.factory, target.connection_id, target.kind, target.fields, after
            )
            if chunk.last_id is None:
                break
            after = chunk.last_id
            ready = [local for local in chunk.locals if not _needs_account_first(local)]
            counts.per_record += [
                local.record.id for local in chunk.locals if _needs_account_first(local)
            ]
            found = remote.submit(
                target.connector.find_candidates_many,
                target.remote_object,
                [_probe(local) for local in ready],
            )
            if flight is not None:
                landing, flight = flight, None
                _land(target, landing, counts)
            flight = _send(target, remote, ready, found.result(), counts)
    except BaseException:
        if flight is not None:
            with contextlib.suppress(Exception):  # the first error is the one to report
                _land(target, flight, counts)
        raise
    if flight is not None:
        _land(target, flight, counts)


def _send(
    target: _Target,
    remote: ThreadPoolExecutor,
    ready: list[LocalRecord],
    candidates: dict[str, list[RemoteRecord]],
    counts: Counts,
) -> _InFlight | None:
    """Match-or-create for a chunk: link the records no CRM record may be, commit the links,
    and hand their upsert to the remote worker."""
    fresh: list[LocalRecord] = []
    for local in ready:
        probe = _probe(local)
        remote_id, ambiguous = push.choose(probe, candidates.get(probe.external_id, []))
        if remote_id is None and not ambiguous:
            fresh.append(local)
        else:  # an existing CRM record, or several: merged or parked by the per-record path
            counts.per_record.append(local.record.id)
    if not fresh:
        return None
    claimed = _create_links(
        target.factory, target.connection_id, target.kind, target.remote_object, fresh
    )
    if not claimed:
        return None
    rows = [
        (str(local.record.id), push.values_to_send(target.fields, local, {}, everything=True))
        for local, _ in claimed
    ]
    answer = remote.submit(target.connector.upsert_many, target.remote_object, rows)
    return _InFlight(answer, claimed, rows)


def _land(target: _Target, flight: _InFlight, counts: Counts) -> None:
    """Wait for the chunk's upsert; save what it wrote, or release its links when it failed."""
    try:
        results = flight.answer.result()
    except BaseException:
        _release(target.factory, [link_id for _, link_id in flight.claimed])
        raise
    _save(target.factory, target.fields, flight.claimed, flight.rows, results, counts)


def _create_links(
    factory: sessionmaker[Session],
    connection_id: uuid.UUID,
    kind: str,
    remote_object: str,
    fresh: list[LocalRecord],
) -> list[tuple[LocalRecord, uuid.UUID]]:
    """Leased links for the records, committed before the remote write; a record linked
    meanwhile (a worker pushing it) is left to that worker."""
    now = utcnow()
    link_ids = [uuid.uuid4() for _ in fresh]
    rows: list[dict[str, Any]] = [
        {
            "id": link_id,
            "connection_id": connection_id,
            "record_id": local.record.id,
            "kind": kind,
            "remote_object": remote_object,
            "remote_id": None,
            "state": LinkState.LINKED.value,
            "candidates": [],
            "lease_until": now + links.LEASE,
            "version": 1,
            "created_at": now,
        }
        for local, link_id in zip(fresh, link_ids, strict=True)
    ]
    with writing_session(factory) as session:
        try:
            with session.begin_nested():
                session.connection().execute(insert(LINKS), rows)
            claimed = list(zip(fresh, link_ids, strict=True))
        except IntegrityError:  # some record was linked meanwhile: one at a time, as push does
            claimed = []
            for local in fresh:
                link = links.create(
                    session,
                    connection_id=connection_id,
                    record_id=local.record.id,
                    kind=kind,
                    remote_object=remote_object,
                    remote_id=None,
                    leased=True,
                )
                if link is not None:
                    claimed.append((local, link.id))
        session.commit()
    return claimed


def _release(factory: sessionmaker[Session], link_ids: list[uuid.UUID]) -> None:
    with writing_session(factory) as session:
        session.execute(
            update(SyncLink)
            .where(SyncLink.id.in_(link_ids))
            .values(lease_until=None)
            .execution_options(synchronize_session=False)
        )
        session.commit()


def _save(
    factory: sessionmaker[Session],
    fields: list[FieldMap],
    claimed: list[tuple[LocalRecord, uuid.UUID]],
    rows: list[tuple[str, dict[str, Any]]],
    results: list[WriteResult | SyncError],
    counts: Counts,
) -> None:
    """Remote ids, versions and shadows of the chunk, and the leases released, in one
    transaction (what `push._write` saves for one record). The links are ours while leased,
    so they are updated by id without reading them first."""
    now = utcnow()
    fatal: SyncError | None = None
    done: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    shadows: list[dict[str, Any]] = []
    for (local, link_id), (_, values), result in zip(claimed, rows, results, strict=True):
        if isinstance(result, RateLimited | AuthExpired | TransientError):
            fatal = fatal or result  # the outcome is unknown: the next run completes it
            failed.append({"link_id": link_id, "error": None})
            continue
        if isinstance(result, SyncError):
            failed.append({"link_id": link_id, "error": str(result)})
            counts.errors += 1
            continue
        sent = {f.local: canonical(values[f.remote]) for f in fields if f.remote in values}
        shadows += [
            {
                "link_id": link_id,
                "field": ref,
                "local_value": local.values.get(ref),
                "remote_value": value,
                "remote_version": result.version,
                "synced_at": now,
            }
            for ref, value in sent.items()
        ]
        rewritten = any(
            canonical(result.values[f.remote]) != sent.get(f.local)
            for f in fields
            if f.remote in result.values
        )
        done.append(
            {
                "link_id": link_id,
                "remote_id": result.remote_id,
                # a CRM automation rewrote what we sent: the next pull merges it (push._write)
                "remote_version": None if rewritten else result.version,
            }
        )
        counts.pushed += 1
        counts.created_remote += int(result.created)
    with writing_session(factory) as session:
        connection = session.connection()
        if done:
            connection.execute(
                update(LINKS)
                .where(LINKS.c.id == bindparam("link_id"))
                .values(
                    remote_id=bindparam("remote_id"),
                    remote_version=bindparam("remote_version"),
                    last_pushed_at=now,
                    last_error=None,
                    lease_until=None,
                    version=LINKS.c.version + 1,
                ),
                done,
            )
        if failed:
            connection.execute(
                update(LINKS)
                .where(LINKS.c.id == bindparam("link_id"))
                .values(last_error=bindparam("error"), lease_until=None),
                failed,
            )
        if shadows:
            connection.execute(insert(SHADOWS), shadows)
        session.commit()
    if fatal is not None:
        raise fatal


def _deliver_one(
    factory: sessionmaker[Session],
    connection_id: uuid.UUID,
    kind: str,
    record_id: uuid.UUID,
    connector: Connector,
    counts: Counts,
) -> None:
    try:
        outcome = push.deliver(factory, None, connection_id, kind, record_id, connector)
    except push.RetryLaterError:
        return  # a worker holds it, or the CRM asked us to wait: a later run or the outbox
    if outcome == "created in the CRM":
        counts.created_remote += 1
    if outcome.startswith(("created", "sent")):
        counts.pushed += 1
    if outcome.startswith("several"):
        counts.waiting += 1
