"""Taking CRM changes into Coterie, one CRM record at a time, each in its own transaction.

- A record already seen at this version is skipped: the overlap window re-reads a few records
  every run, and our own writes come back with the version we stored (echo).
- A record not linked yet is matched in Coterie among the records my company may see: the
  co-sell external id it carries, then the customer domain, then a close name
  (`coterie.sync.matching`); one match links, several wait for a person (a candidate link),
  none creates a record owned by my company (if the mapping creates in Coterie).
- A linked record is reconciled field by field (`coterie.sync.reconcile`); whatever Coterie
  must send back is queued for the push.
- A tombstone follows the mapping: unlink (the record stays in Coterie and is no longer
  synced, even if the CRM restores it; a person can relink it) or archive (the link is kept,
  marked deleted in the CRM; a restore in the CRM relinks it). Two CRM records merged: the
  loser's link moves to the survivor when the survivor is not linked yet, else it is archived.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.cosell.pipeline.duplicates import normalize_domain
from coterie.kit.problems import Problem
from coterie.models.sync import LinkState, SyncConnection, SyncMapping
from coterie.sync import links, localview, matching
from coterie.sync.connectors.base import RemoteRecord, Tombstone
from coterie.sync.mapping import FieldMap, OnCrmDelete, canonical, to_local
from coterie.sync.merge import Shadow
from coterie.sync.queueing import queue_push, set_origin
from coterie.sync.reconcile import reconcile

log = logging.getLogger(__name__)


@dataclass
class Counts:
    pulled: int = 0
    created_local: int = 0
    conflicts: int = 0
    skipped: int = 0
    waiting: int = 0
    busy: list[str] | None = None


def _incoming(fields: list[FieldMap], remote: RemoteRecord) -> dict[str, Any]:
    return {
        f.local: to_local(f, canonical(remote.values.get(f.remote)))
        for f in fields
        if f.comes_in and f.remote in remote.values
    }


def _external_id(remote: RemoteRecord) -> uuid.UUID | None:
    try:
        return uuid.UUID(remote.external_id) if remote.external_id else None
    except ValueError:
        return None


def apply(
    session: Session,
    actor: Actor,
    connection: SyncConnection,
    mapping: SyncMapping,
    fields: list[FieldMap],
    remote: RemoteRecord,
    counts: Counts,
) -> None:
    link = links.by_remote(session, connection.id, remote.object, remote.remote_id)
    external = _external_id(remote)
    if link is None and external is not None:
        link = links.by_record(session, connection.id, external)
        if link is not None and link.remote_id not in (None, remote.remote_id):
            link = None  # the id names a record linked elsewhere: not this one
        elif link is not None and link.remote_id is None:
            link.remote_id = remote.remote_id  # a push that died before saving the id
    if link is not None:
        if link.state in (LinkState.UNLINKED.value, LinkState.CANDIDATE.value):
            counts.skipped += 1
            return
        if link.state == LinkState.TOMBSTONED.value:
            link.state = LinkState.LINKED.value  # restored in the CRM
            link.last_error = None
        elif remote.version and remote.version == link.remote_version:
            counts.skipped += 1
            return
        _merge_linked(session, actor, connection, fields, link, remote, counts)
        return
    _link_or_create(session, actor, connection, mapping, fields, remote, external, counts)


def _merge_linked(
    session: Session,
    actor: Actor,
    connection: SyncConnection,
    fields: list[FieldMap],
    link: Any,
    remote: RemoteRecord,
    counts: Counts,
) -> None:
    if not links.claim(session, link):
        counts.busy = [*(counts.busy or []), remote.remote_id]
        return
    try:
        assert link.record_id is not None  # noqa: S101 (linked)
        try:
            local = localview.read(session, actor, connection.id, link.kind, link.record_id, fields)
        except Problem as exc:
            if exc.status != 404:
                raise
            link.state = LinkState.UNLINKED.value
            link.last_error = "The record is no longer visible to your company in Coterie."
            return
        with session.begin_nested():
            result = reconcile(session, actor, connection.id, link, fields, local, remote)
        link.remote_version = remote.version
        link.last_pulled_at = local.record.updated_at
        if result.written:
            counts.pulled += 1
        counts.conflicts += result.conflicts
        if result.push:
            queue_push(
                session,
                connection.id,
                connection.company_id,
                link.kind,
                link.record_id,
                f"merge:{remote.remote_id}:{remote.version}",
            )
    finally:
        links.release(session, link.id)


def _link_or_create(
    session: Session,
    actor: Actor,
    connection: SyncConnection,
    mapping: SyncMapping,
    fields: list[FieldMap],
    remote: RemoteRecord,
    external: uuid.UUID | None,
    counts: Counts,
) -> None:
    incoming = _incoming(fields, remote)
    name = str(incoming.get("record.title") or incoming.get("record.customer_name") or "")
    found = matching.match(
        session,
        actor.principal,
        mapping.kind,
        name=name,
        domain=normalize_domain(incoming.get("record.customer_domain")),
        known_id=external,
        customer_name=incoming.get("record.customer_name"),
    )
    if found.record_id is not None and links.by_record(session, connection.id, found.record_id):
        found = matching.Match("ambiguous", None, found.candidates)
    if found.outcome == "ambiguous" or (
        found.record_id is None and found.candidates and found.outcome != "none"
    ):
        links.create(
            session,
            connection_id=connection.id,
            record_id=None,
            kind=mapping.kind,
            remote_object=remote.object,
            remote_id=remote.remote_id,
            state=LinkState.CANDIDATE,
            candidates=[
                {"record_id": str(c.record_id), "name": c.title, "reason": c.reason}
                for c in found.candidates
            ],
        )
        counts.waiting += 1
        return
    if found.record_id is not None:
        link = links.create(
            session,
            connection_id=connection.id,
            record_id=found.record_id,
            kind=mapping.kind,
            remote_object=remote.object,
            remote_id=remote.remote_id,
        )
        if link is None:
            counts.skipped += 1
            return
        _merge_linked(session, actor, connection, fields, link, remote, counts)
        return
    if not mapping.create_in_coterie:
        counts.skipped += 1
        return
    set_origin(session, connection.id)
    try:
        with session.begin_nested():
            record_id = localview.create(session, actor, connection.id, mapping.kind, incoming)
    finally:
        set_origin(session, None)
    link = links.create(
        session,
        connection_id=connection.id,
        record_id=record_id,
        kind=mapping.kind,
        remote_object=remote.object,
        remote_id=remote.remote_id,
    )
    if link is None:
        raise RuntimeError("a new record cannot be linked already")
    local = localview.read(session, actor, connection.id, mapping.kind, record_id, fields)
    links.save_shadows(
        session,
        link.id,
        {
            f.local: Shadow(local.values.get(f.local), canonical(remote.values.get(f.remote)))
            for f in fields
            if f.remote in remote.values
        },
        remote.version,
    )
    link.remote_version = remote.version
    counts.created_local += 1


def tombstone(
    session: Session, connection: SyncConnection, mapping: SyncMapping, gone: Tombstone
) -> bool:
    """Apply a CRM delete (or merge) to its link; False when nothing was linked to it."""
    link = links.by_remote(session, connection.id, gone.object, gone.remote_id)
    if link is None or link.state == LinkState.TOMBSTONED.value:
        return False
    if gone.merged_into:
        survivor = links.by_remote(session, connection.id, gone.object, gone.merged_into)
        if survivor is None and link.record_id is not None:
            link.remote_id = gone.merged_into
            link.remote_version = None  # merge the survivor on the next read
            link.last_error = None
            return True
        link.state = LinkState.TOMBSTONED.value
        link.last_error = f"Merged into CRM record {gone.merged_into} in the CRM."
        return True
    if mapping.on_crm_delete == OnCrmDelete.ARCHIVE.value:
        link.state = LinkState.TOMBSTONED.value
        link.last_error = "Deleted in the CRM."
        return True
    link.state = LinkState.UNLINKED.value  # sticky: the push never re-creates it
    link.last_error = "Deleted in the CRM: no longer synced."
    return True


__all__ = ["Counts", "apply", "set_origin", "tombstone"]
