"""One record's links to CRM records, for the viewer's company: what the record page's "In your
CRM" panel shows and the actions it offers (admins and managers).

- `panel` (one query for the connections and the record's links, one for CRM records waiting
  for a choice that name this record): for each of my company's connections that maps the
  record's kind, the record's link (state, remote id, a deep link when the connector can build
  one, last pushed/pulled, last error) and its candidates.
- `choose`: a candidate link becomes `linked`: this record's link to the chosen CRM record, or
  a waiting CRM record's link to this record (a record the viewer may see: the path's record
  goes through the gate, 404 otherwise). A push is queued, which merges both sides before it
  writes (`coterie.sync.push`: a link whose CRM version is unknown is merged first).
- `unlink`: sticky, the engine no longer syncs the pair until someone relinks it.
- `relink`: back to linked (then merged by a queued push), back to choosing among candidates,
  or, for a link that never reached a CRM record, forgotten and matched anew by a push.
- `push_to_crm`: queue a push of a record not in the CRM yet (the push matches or creates it).

Every action claims the link at the version the person saw (one conditional UPDATE: 412 when
it moved), answers 404 for another company's link, and writes an audit row. Nothing commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coterie import audit
from coterie.auth.principal import Actor
from coterie.authz import gate
from coterie.config import Settings
from coterie.kit import conditional
from coterie.kit.problems import conflict, invalid, not_found
from coterie.models import RecordAccess
from coterie.models.sync import ConnectionStatus, LinkState, SyncConnection, SyncLink, SyncMapping
from coterie.models.vocabulary import Role
from coterie.sync import connections, secrets
from coterie.sync.connectors.base import SyncError
from coterie.sync.inbox_schemas import CandidateOut, ConnectionLinksOut, CrmLinkOut
from coterie.sync.labels import crm_label
from coterie.sync.queueing import queue_push
from coterie.sync.service import my_connection

WHAT = "CRM link"


def _may_act(actor: Actor) -> None:
    actor.require_role(Role.MANAGER, "change how records sync with the CRM")


def _see(session: Session, actor: Actor, kind: str, record_id: uuid.UUID) -> None:
    gate.check(session, actor.principal, kind, record_id)  # 404 when hidden


def _names_record(link: SyncLink, record_id: uuid.UUID) -> bool:
    wanted = str(record_id)
    return any(c.get("record_id") == wanted for c in link.candidates or [])


def _deep_links(
    settings: Settings, connection: SyncConnection, links: list[SyncLink]
) -> dict[uuid.UUID, str]:
    """Links into the CRM, when its connector (installed here, credentials readable) says."""
    known = [link for link in links if link.remote_id]
    if not known:
        return {}
    try:
        connector = connections.build_connector(settings, connection)
    except (LookupError, ImportError, TypeError, ValueError, secrets.UnreadableSecretError):
        return {}
    urls: dict[uuid.UUID, str] = {}
    try:
        for link in known:
            url = connector.record_url(link.remote_object, link.remote_id or "")
            if url:
                urls[link.id] = url
    except SyncError:
        return urls
    finally:
        connector.close()
    return urls


def _visible_ids(session: Session, actor: Actor, kind: str, ids: set[uuid.UUID]) -> set[uuid.UUID]:
    if not ids:
        return set()
    statement = gate.visible_ids(actor.principal, kind).where(RecordAccess.record_id.in_(ids))
    return set(session.scalars(statement))


def _candidates(link: SyncLink, visible: set[uuid.UUID]) -> list[CandidateOut]:
    out: list[CandidateOut] = []
    for item in link.candidates or []:
        if item.get("record_id"):
            record_id = uuid.UUID(str(item["record_id"]))
            if record_id not in visible:
                continue  # a Coterie record the viewer may not see is no choice of theirs
            out.append(
                CandidateOut(
                    remote_id=None,
                    record_id=record_id,
                    name=str(item.get("name") or ""),
                    reason=item.get("reason"),
                )
            )
        else:
            out.append(
                CandidateOut(
                    remote_id=str(item.get("remote_id") or ""),
                    record_id=None,
                    name=str(item.get("name") or item.get("remote_id") or ""),
                )
            )
    return out


def _out(link: SyncLink, side: str, url: str | None, candidates: list[CandidateOut]) -> CrmLinkOut:
    return CrmLinkOut(
        id=link.id,
        version=link.version,
        state=link.state,
        side=side,
        remote_object=link.remote_object,
        remote_id=link.remote_id,
        remote_url=url,
        last_pushed_at=link.last_pushed_at,
        last_pulled_at=link.last_pulled_at,
        last_error=link.last_error,
        candidates=candidates,
    )


def panel(
    session: Session, actor: Actor, settings: Settings, kind: str, record_id: uuid.UUID
) -> list[ConnectionLinksOut]:
    """The record's place in each of my company's CRMs that map its kind (empty: no such CRM)."""
    _see(session, actor, kind, record_id)
    rows = list(
        session.execute(
            select(SyncConnection, SyncMapping.remote_object, SyncLink)
            .join(
                SyncMapping,
                and_(
                    SyncMapping.connection_id == SyncConnection.id,
                    SyncMapping.kind == kind,
                    SyncMapping.enabled.is_(True),
                ),
            )
            .outerjoin(
                SyncLink,
                and_(SyncLink.connection_id == SyncConnection.id, SyncLink.record_id == record_id),
            )
            .where(SyncConnection.company_id == actor.company_id)
            .order_by(SyncConnection.name, SyncConnection.id)
        ).all()
    )
    if not rows:
        return []
    waiting = [
        link
        for link in session.scalars(
            select(SyncLink).where(
                SyncLink.connection_id.in_([c.id for c, _, _ in rows]),
                SyncLink.kind == kind,
                SyncLink.state == LinkState.CANDIDATE.value,
                SyncLink.record_id.is_(None),
            )
        )
        if _names_record(link, record_id)
    ]
    named = {
        uuid.UUID(str(c["record_id"]))
        for link in waiting
        for c in link.candidates or []
        if c.get("record_id")
    }
    visible = _visible_ids(session, actor, kind, named)
    result: list[ConnectionLinksOut] = []
    for connection, remote_object, link in rows:
        mine = [link] if link is not None else []
        theirs = [w for w in waiting if w.connection_id == connection.id]
        urls = _deep_links(settings, connection, mine + theirs)
        result.append(
            ConnectionLinksOut(
                connection_id=connection.id,
                connection_name=connection.name,
                crm=crm_label(connection.kind),
                status=connection.status,
                remote_object=remote_object,
                links=[_out(x, "record", urls.get(x.id), _candidates(x, set())) for x in mine]
                + [_out(w, "crm", urls.get(w.id), _candidates(w, visible)) for w in theirs],
            )
        )
    return result


@dataclass(frozen=True)
class _Found:
    link: SyncLink
    connection: SyncConnection


def _link(
    session: Session, actor: Actor, kind: str, record_id: uuid.UUID, link_id: uuid.UUID
) -> _Found:
    """My company's link of this record (or a waiting CRM record naming it), for an action on it
    (403 for an actor who may not act); 404 otherwise."""
    _may_act(actor)
    found = session.execute(
        select(SyncLink, SyncConnection)
        .join(SyncConnection, SyncConnection.id == SyncLink.connection_id)
        .where(SyncLink.id == link_id, SyncConnection.company_id == actor.company_id)
    ).first()
    if found is None:
        raise not_found(WHAT)
    link, connection = found
    ours = link.record_id == record_id or (
        link.record_id is None and _names_record(link, record_id)
    )
    if link.kind != kind or not ours:
        raise not_found(WHAT)
    _see(session, actor, kind, record_id)
    return _Found(link, connection)


def _claim(session: Session, link: SyncLink, expected: int) -> None:
    conditional.claim_version(session, link, expected, WHAT)


def _saved(session: Session, what: str) -> None:
    """Flush the link's new state; the unique constraints refuse a second link of either side."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise conflict("sync-already-linked", what) from exc


def _push(session: Session, found: _Found, record_id: uuid.UUID, because: str) -> uuid.UUID:
    connection = found.connection
    return queue_push(
        session, connection.id, connection.company_id, found.link.kind, record_id, because
    )


def _audit(
    session: Session, actor: Actor, action: str, kind: str, record_id: uuid.UUID, link: SyncLink
) -> None:
    audit.record(
        session, actor, action, kind, record_id, link_id=str(link.id), remote_id=link.remote_id
    )


def choose(
    session: Session,
    actor: Actor,
    kind: str,
    record_id: uuid.UUID,
    link_id: uuid.UUID,
    expected: int,
    remote_id: str | None,
) -> CrmLinkOut:
    """Link the pair a person picked among a candidate link's candidates."""
    found = _link(session, actor, kind, record_id, link_id)
    link = found.link
    if link.state != LinkState.CANDIDATE.value:
        raise conflict("sync-link-not-candidate", f"This link is {link.state}: nothing to choose.")
    _claim(session, link, expected)
    if link.record_id is not None:
        offered = {str(c.get("remote_id")) for c in link.candidates or []}
        if not remote_id or remote_id not in offered:
            raise invalid("body.remote_id", "must be one of the link's CRM candidates")
        link.remote_id = remote_id
        taken = "That CRM record is already linked to another record of yours."
    else:
        link.record_id = record_id
        taken = "This record is already linked to another CRM record on this connection."
    link.state = LinkState.LINKED.value
    link.candidates = []
    link.remote_version = None  # unknown: the push merges both sides before it writes
    link.last_error = None
    _saved(session, taken)
    _push(session, found, record_id, f"choose:{link.id}:{link.version}")
    _audit(session, actor, "sync.link.chosen", kind, record_id, link)
    return _out(link, "record", None, [])


def unlink(
    session: Session,
    actor: Actor,
    kind: str,
    record_id: uuid.UUID,
    link_id: uuid.UUID,
    expected: int,
) -> CrmLinkOut:
    """Stop syncing this pair (sticky: neither the pull nor the push touches it again)."""
    found = _link(session, actor, kind, record_id, link_id)
    link = found.link
    if link.state == LinkState.UNLINKED.value:
        raise conflict("sync-link-unlinked", "This record is already unlinked from the CRM.")
    _claim(session, link, expected)
    link.state = LinkState.UNLINKED.value
    link.last_error = None
    _audit(session, actor, "sync.link.unlinked", kind, record_id, link)
    session.flush()
    return _out(link, "record" if link.record_id else "crm", None, [])


def relink(
    session: Session,
    actor: Actor,
    kind: str,
    record_id: uuid.UUID,
    link_id: uuid.UUID,
    expected: int,
) -> CrmLinkOut | None:
    """Sync an unlinked pair again; None when the link was forgotten for the push to match the
    record anew (it never reached a CRM record)."""
    found = _link(session, actor, kind, record_id, link_id)
    link = found.link
    if link.state != LinkState.UNLINKED.value:
        raise conflict("sync-link-not-unlinked", f"This link is {link.state}, not unlinked.")
    _claim(session, link, expected)
    _audit(session, actor, "sync.link.relinked", kind, record_id, link)
    if link.remote_id is not None and link.record_id is not None:
        link.state = LinkState.LINKED.value
        link.remote_version = None  # merge what changed on either side meanwhile
        session.flush()
        _push(session, found, link.record_id, f"relink:{link.id}:{link.version}")
        return _out(link, "record", None, [])
    if link.candidates:
        link.state = LinkState.CANDIDATE.value
        session.flush()
        return _out(link, "record" if link.record_id else "crm", None, [])
    session.delete(link)
    session.flush()
    _push(session, found, record_id, f"relink:{link.id}:{link.version}")
    return None


def push_to_crm(
    session: Session, actor: Actor, kind: str, record_id: uuid.UUID, connection_id: uuid.UUID
) -> uuid.UUID:
    """Queue a push of the record to one of my connections; the outbox row's id."""
    _may_act(actor)
    _see(session, actor, kind, record_id)
    connection = my_connection(session, actor, connection_id)
    if connections.mapping_for(session, connection.id, kind) is None:
        raise conflict("sync-kind-unmapped", f"This connection does not sync {kind} records.")
    if connection.status != ConnectionStatus.ACTIVE.value:
        raise conflict(
            "sync-connection-inactive",
            f"The connection is {connection.status}: resume it on Settings > Integrations first.",
        )
    existing = session.scalar(
        select(SyncLink).where(
            SyncLink.connection_id == connection.id, SyncLink.record_id == record_id
        )
    )
    if existing is not None and existing.state == LinkState.UNLINKED.value:
        raise conflict("sync-link-unlinked", "You unlinked this record: relink it first.")
    if existing is not None and existing.state == LinkState.CANDIDATE.value:
        raise conflict(
            "sync-link-candidate",
            "Several CRM records may be this one: choose one of them first.",
        )
    outbox_id = queue_push(
        session, connection.id, connection.company_id, kind, record_id, f"manual:{uuid.uuid4()}"
    )
    audit.record(
        session, actor, "sync.push.requested", kind, record_id, connection_id=str(connection.id)
    )
    return outbox_id
