"""Pushing one Coterie record into one connection's CRM: the `crm` outbox channel's sender.

Called by the worker for each outbox row a record write queued (`coterie.sync.queueing`). It
reads the record as the connection's principal at delivery time (through the gate), so only
what my company may see *now* is sent, and:
- a record not linked yet is matched in the CRM first (external id, then customer domain, then
  a close name: one clear candidate links, several wait for a person, none creates), parents
  first (an opportunity's account is pushed before it);
- a linked record sends only the fields whose Coterie value changed since the shadow, as a
  conditional write at the version last seen; a CRM record changed meanwhile (RemoteConflict)
  is merged first (`reconcile`), then the write is retried;
- the link is created (a unique row: the claim) before the remote write, and the remote write
  is keyed by the co-sell external id, so a worker killed between the two leaves a link the
  next attempt completes, never a second CRM record;
- a record my company may no longer see follows the mapping's "when a record leaves Coterie".
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy.orm import Session, sessionmaker

from coterie.config import Settings
from coterie.cosell.pipeline.duplicates import normalize_name as normalised
from coterie.db import utcnow, writing_session
from coterie.kit.problems import Problem
from coterie.models.sync import LinkState, SyncConnection, SyncLink
from coterie.sync import connections, links, localview
from coterie.sync.connectors.base import (
    Connector,
    MatchProbe,
    RateLimited,
    RemoteConflict,
    RemoteRecord,
    RemoteRef,
)
from coterie.sync.mapping import FieldMap, OnCoterieDelete, canonical, to_remote
from coterie.sync.merge import Shadow
from coterie.sync.pauses import pause_for, spend
from coterie.sync.reconcile import reconcile

log = logging.getLogger(__name__)

STRONG_NAME = 92
MAX_CONFLICT_RETRIES = 3


class RetryLaterError(Exception):
    """Not now (the CRM paused us, another worker holds the record): retry at `at`."""

    def __init__(self, message: str, at: datetime):
        super().__init__(message)
        self.at = at


def _probe(local: localview.LocalRecord) -> MatchProbe:
    record = local.record
    return MatchProbe(
        external_id=str(record.id),
        name=record.title,
        domain=record.customer_domain,
        account_remote_id=None,
    )


def choose(
    probe: MatchProbe, candidates: list[RemoteRecord]
) -> tuple[str | None, list[RemoteRecord]]:
    """The CRM record to link (or None), and the candidates a person must choose among."""
    for candidate in candidates:
        if candidate.external_id == probe.external_id:
            return candidate.remote_id, []
    free = [c for c in candidates if not c.external_id]  # others are some other record's
    scored = [(c, _name_score(probe.name, c)) for c in free]
    strong = [c for c, score in scored if score >= STRONG_NAME]
    if len(strong) == 1:
        return strong[0].remote_id, []
    return None, [c for c, _ in scored if _ >= STRONG_NAME - 20]


def _name_score(name: str, candidate: RemoteRecord) -> float:
    names = [str(v) for k, v in candidate.values.items() if k.lower() in ("name", "description")]
    return max((fuzz.token_sort_ratio(normalised(name), normalised(n)) for n in names), default=0)


def values_to_send(
    fields: list[FieldMap],
    local: localview.LocalRecord,
    shadows: dict[str, Any],
    *,
    everything: bool,
) -> dict[str, Any]:
    """The values one write sends to the CRM: every outgoing field (`everything`, a record's
    first write) or those whose value differs from its shadow (the last value synced)."""
    values: dict[str, Any] = {}
    for field in fields:
        if not field.goes_out:
            continue
        value = local.values.get(field.local)
        shadow = shadows.get(field.local)
        if everything or shadow is None or shadow.local != value:
            if everything and value is None and shadow is None:
                continue
            values[field.remote] = _remote_value(field, value, local.currency)
    return values


def _customer_for_a_required_account(
    connector: Connector,
    remote_object: str,
    fields: list[FieldMap],
    local: localview.LocalRecord,
    values: dict[str, Any],
) -> None:
    """A new CRM record whose account the CRM requires (Tryton's party), for a deal with no
    account in Coterie: the customer's name is sent instead, which the connector resolves to
    the CRM's account of that name (found, or created). Asked of the CRM only in this case."""
    account = next((f for f in fields if f.local == "record.account" and f.goes_out), None)
    name = local.record.customer_name
    if account is None or values.get(account.remote) is not None or not name:
        return
    described = next((o for o in connector.objects() if o.name == remote_object), None)
    remote_field = described.field(account.remote) if described else None
    if remote_field is not None and remote_field.required:
        values[account.remote] = name


def _remote_value(field: FieldMap, value: Any, currency: str | None) -> Any:
    if field.local == "record.account" and isinstance(value, str) and ":" in value:
        remote_object, remote_id = value.rsplit(":", 1)
        return RemoteRef(remote_object, remote_id)
    return to_remote(field, value, local_currency=currency)


def deliver(
    factory: sessionmaker[Session],
    settings: Settings | None,
    connection_id: uuid.UUID,
    kind: str,
    record_id: uuid.UUID,
    connector: Connector | None = None,
) -> str:
    """Push the record; returns what happened, for the log. Raises RetryLaterError, or a
    connector error for the outbox to retry (or kill, when permanent)."""
    own = connector is None
    with writing_session(factory) as session:
        connection = session.get(SyncConnection, connection_id)
        if connection is None:
            return "connection removed"
        connections.usable(connection)
        if connection.paused_until and connection.paused_until > utcnow():
            raise RetryLaterError("the CRM asked us to wait", connection.paused_until)
        daily_budget = connection.daily_budget
        if connector is None:
            if settings is None:
                raise ValueError("settings are needed to build the connector")
            connector = connections.build_connector(settings, connection)
    try:
        spend(connector, daily_budget)
        return _push(factory, connection_id, kind, record_id, connector, depth=0)
    except RateLimited as exc:
        until = pause_for(factory, connection_id, exc)
        raise RetryLaterError(str(exc), until) from exc
    finally:
        if own:
            connector.close()


def _push(
    factory: sessionmaker[Session],
    connection_id: uuid.UUID,
    kind: str,
    record_id: uuid.UUID,
    connector: Connector,
    depth: int,
) -> str:
    with writing_session(factory) as session:
        connection = session.get(SyncConnection, connection_id)
        assert connection is not None  # noqa: S101 (checked by deliver)
        mapping = connections.mapping_for(session, connection_id, kind)
        if mapping is None:
            return "kind not mapped"
        fields = connections.field_maps(mapping)
        actor = connections.actor_of(session, connection)
        link = links.by_record(session, connection_id, record_id)
        try:
            local = localview.read(session, actor, connection_id, kind, record_id, fields)
        except Problem as exc:
            if exc.status != 404:
                raise
            return _left_coterie(session, connector, mapping.on_coterie_delete, link)
        if link is not None and link.state in (LinkState.UNLINKED.value, LinkState.CANDIDATE.value):
            return f"link is {link.state}"
        if link is not None and link.state == LinkState.TOMBSTONED.value:
            return "deleted in the CRM"
        account = local.record.account_id
        if (
            link is None
            and account is not None
            and "record.account" in local.values
            and local.values["record.account"] is None
            and depth == 0
        ):
            session.rollback()
            _push(factory, connection_id, "account", account, connector, depth + 1)
            return _push(factory, connection_id, kind, record_id, connector, depth + 1)
        merge_first = False
        if link is None:
            if not mapping.create_in_crm:
                return "not created in the CRM (mapping)"
            probe = _probe(local)
            found = connector.find_candidates(mapping.remote_object, probe)
            taken, waiting = links.claims_on(
                session, connection_id, mapping.remote_object, [c.remote_id for c in found]
            )
            if any(str(record_id) in ids for ids in waiting.values()):
                return "a CRM record that may be this one waits for a person"
            remote_id, ambiguous = choose(probe, [c for c in found if c.remote_id not in taken])
            if ambiguous:
                links.create(
                    session,
                    connection_id=connection_id,
                    record_id=record_id,
                    kind=kind,
                    remote_object=mapping.remote_object,
                    remote_id=None,
                    state=LinkState.CANDIDATE,
                    candidates=[_candidate(c) for c in ambiguous],
                )
                session.commit()
                return "several CRM records may be this one: waits for a person"
            link = links.create(
                session,
                connection_id=connection_id,
                record_id=record_id,
                kind=kind,
                remote_object=mapping.remote_object,
                remote_id=remote_id,
                leased=True,
            )
            if link is None:
                raise RetryLaterError(
                    "another worker is linking it", utcnow() + timedelta(seconds=5)
                )
            session.commit()
            if remote_id is not None:  # an existing CRM record: merge before writing
                current = connector.fetch(mapping.remote_object, [remote_id])
                if current:
                    reconcile(session, actor, connection_id, link, fields, local, current[0])
                    session.commit()
                    local = localview.read(session, actor, connection_id, kind, record_id, fields)
        elif not links.claim(session, link):
            raise RetryLaterError(
                "another worker holds the record", utcnow() + timedelta(seconds=10)
            )
        else:
            # a pair a person chose or relinked, or a record a CRM automation rewrote: merge the
            # CRM record's current state first, so neither side is blindly overwritten
            merge_first = link.remote_id is not None and link.remote_version is None
        session.commit()
        link_id = link.id
        try:
            if merge_first:
                local = _merge_first(session, connector, actor, connection_id, link, fields, local)
            return _write(session, connector, actor, connection_id, link, fields, local)
        finally:
            links.release(session, link_id)
            session.commit()


def _merge_first(
    session: Session,
    connector: Connector,
    actor: Any,
    connection_id: uuid.UUID,
    link: SyncLink,
    fields: list[FieldMap],
    local: localview.LocalRecord,
) -> localview.LocalRecord:
    current = connector.fetch(link.remote_object, [link.remote_id or ""])
    if not current:
        return local
    return _merged(session, actor, connection_id, link, fields, local, current[0])


def _merged(
    session: Session,
    actor: Any,
    connection_id: uuid.UUID,
    link: SyncLink,
    fields: list[FieldMap],
    local: localview.LocalRecord,
    current: RemoteRecord,
) -> localview.LocalRecord:
    """Merge the CRM record's `current` state into Coterie, remember its version (the next
    write is conditional on it) and read the record again as the merge left it."""
    reconcile(session, actor, connection_id, link, fields, local, current)
    link.remote_version = current.version
    session.commit()
    return localview.read(session, actor, connection_id, local.record.kind, local.record.id, fields)


def _write(
    session: Session,
    connector: Connector,
    actor: Any,
    connection_id: uuid.UUID,
    link: SyncLink,
    fields: list[FieldMap],
    local: localview.LocalRecord,
) -> str:
    for _ in range(MAX_CONFLICT_RETRIES):
        shadows = links.shadows(session, link.id)
        values = values_to_send(fields, local, shadows, everything=link.remote_id is None)
        if link.remote_id is None:
            _customer_for_a_required_account(connector, link.remote_object, fields, local, values)
        if link.remote_id is not None and not values:
            return "up to date"
        try:
            result = connector.upsert(
                link.remote_object,
                str(local.record.id),
                values,
                remote_id=link.remote_id,
                expected_version=link.remote_version if link.remote_id else None,
            )
        except RemoteConflict as exc:
            current = exc.current
            if current is None:
                current = next(
                    iter(connector.fetch(link.remote_object, [link.remote_id or ""])), None
                )
            if current is None:
                raise
            local = _merged(session, actor, connection_id, link, fields, local, current)
            continue
        sent = {f.local: canonical(values[f.remote]) for f in fields if f.remote in values}
        links.save_shadows(
            session,
            link.id,
            {ref: Shadow(local.values.get(ref), value) for ref, value in sent.items()},
            result.version,
        )
        expected = {ref: shadow.remote for ref, shadow in shadows.items()} | sent
        rewritten = any(
            canonical(result.values[f.remote]) != expected.get(f.local)
            for f in fields
            if f.remote in result.values
        )
        link.remote_id = result.remote_id
        # a CRM automation rewrote what we sent: leave the version unknown so the next pull
        # merges the record (its value differs from the shadow: a real change, not an echo)
        link.remote_version = None if rewritten else result.version
        link.last_pushed_at = utcnow()
        link.last_error = None
        session.commit()
        return "created in the CRM" if result.created else f"sent {len(values)} field(s)"
    return "conflicting edits kept changing: retried later"


def _candidate(record: RemoteRecord) -> dict[str, Any]:
    name = next(
        (str(v) for k, v in record.values.items() if k.lower() in ("name", "description")),
        record.remote_id,
    )
    return {"remote_id": record.remote_id, "name": name}


def _left_coterie(session: Session, connector: Connector, rule: str, link: SyncLink | None) -> str:
    if link is None or link.state != LinkState.LINKED.value or link.remote_id is None:
        return "not visible and not linked"
    if rule == OnCoterieDelete.DELETE.value:
        connector.delete(link.remote_object, link.remote_id)
        links.forget(session, [link.id])
        session.commit()
        return "deleted in the CRM (record left Coterie)"
    link.state = LinkState.UNLINKED.value
    link.last_error = "The record is no longer visible to your company in Coterie."
    session.commit()
    return "unlinked (record left Coterie)"
