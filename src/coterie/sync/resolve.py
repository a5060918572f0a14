"""The conflicts inbox: fields both Coterie and the CRM changed since they last agreed, where the
field's owner won and the losing value waits for a person (admins and managers).

- `list_open` shows my company's open conflicts, only on records the viewer may see now (the
  visibility filter is the gate's, in SQL; titles come through `gate.visible`), with the field's
  label from my template and the values as text (hidden while the viewer hides private fields).
- `resolve(..., choice)` claims the conflict at the version the person saw (one conditional
  UPDATE: of two admins resolving at once, one wins and the other gets 412). "keep" confirms the
  winner. "switch" applies the losing value:
  - the CRM lost: its value is written into my space / the core through `localview.write`, as
    the person (conditional on the space's version: 412 if it moved), and the shadow says both
    sides agree when the CRM still holds that value; when the push already overwrote it in the
    CRM, a push is queued so the CRM gets its value back;
  - Coterie lost (the CRM's value overwrote it): Coterie's value is written back into my space
    and one push is queued so the CRM gets it.
  A switch is refused (409) when the record's value changed since the conflict was recorded:
  the newer edit is never overwritten by an older value.
- `keep_all` confirms the winner of the conflicts a person looked at, in one UPDATE.

Every action writes an audit row. Nothing here commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, or_, select, update
from sqlalchemy.orm import Session

from coterie import audit
from coterie.auth.principal import Actor
from coterie.authz import gate, rls
from coterie.db import utcnow
from coterie.fields import templates
from coterie.kit import conditional
from coterie.kit.pagination import SortKey, paginate
from coterie.kit.problems import Problem, conflict, forbidden, not_found
from coterie.models.sync import SyncConflict, SyncConnection, SyncLink
from coterie.models.vocabulary import Role
from coterie.sync import connections, links, localview
from coterie.sync.inbox_schemas import Choice, ConflictOut, ValueShown
from coterie.sync.labels import FieldInfo, crm_label, field_info
from coterie.sync.mapping import FieldMap, Owner, to_local
from coterie.sync.merge import Shadow
from coterie.sync.queueing import queue_push, set_origin
from coterie.sync.service import my_connection

OPEN = "open"
RESOLVED = "resolved"
ORDER = (SortKey(SyncConflict.id, is_uuid=True),)  # ids are UUIDv7: the order they were found


def _may_decide(actor: Actor) -> None:
    actor.require_role(Role.MANAGER, "decide CRM sync conflicts")


def _visible(actor: Actor, kinds: Iterable[str]) -> ColumnElement[bool]:
    """Conflicts on records the viewer may see now: the gate's grant table, in SQL."""
    principal = actor.principal
    clauses = [
        and_(
            SyncConflict.kind == kind, SyncConflict.record_id.in_(gate.visible_ids(principal, kind))
        )
        for kind in sorted(set(kinds))
    ]
    return or_(*clauses) if clauses else false()


def _kinds_of(session: Session, connection_ids: Sequence[uuid.UUID]) -> set[str]:
    return set(
        session.scalars(
            select(SyncConflict.kind)
            .where(SyncConflict.connection_id.in_(connection_ids), SyncConflict.status == OPEN)
            .distinct()
        )
    )


class _Presenter:
    """Labels and shown values, from my company's templates (loaded once per kind)."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self.session = session
        self.actor = actor
        self._templates: dict[str, templates.CompanyTemplate] = {}

    def info(self, kind: str, ref: str) -> FieldInfo:
        if kind not in self._templates:
            self._templates[kind] = templates.load(self.session, self.actor.company_id, kind)
        return field_info(self._templates[kind], ref)

    def out(
        self, row: SyncConflict, connection: SyncConnection, title: str | None = None
    ) -> ConflictOut:
        info = self.info(row.kind, row.field)
        hidden = info.private and self.actor.principal.hide_private
        values: dict[str, Any] = {
            "base": row.base_value,
            "coterie": row.coterie_value,
            "crm": row.crm_value,
        }
        if hidden:
            values = dict.fromkeys(values)
        shown = ValueShown(
            **{k: "Hidden (private)" if hidden else info.show(v) for k, v in values.items()}
        )
        return ConflictOut(
            id=row.id,
            version=row.version,
            connection_id=row.connection_id,
            crm=crm_label(connection.kind),
            record_id=row.record_id,
            kind=row.kind,
            record_title=title if title is not None else "",
            field=row.field,
            field_label=info.label,
            base_value=values["base"],
            coterie_value=values["coterie"],
            crm_value=values["crm"],
            shown=shown,
            hidden=hidden,
            winner=row.winner,
            status=row.status,
            resolution=row.resolution,
            detected_at=row.detected_at,
            resolved_at=row.resolved_at,
        )


def list_open(
    session: Session,
    actor: Actor,
    *,
    connection_id: uuid.UUID | None = None,
    field: str | None = None,
    record_id: uuid.UUID | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[ConflictOut], str | None]:
    """A page of my company's open conflicts (one connection's, or all), oldest first."""
    _may_decide(actor)
    if connection_id is not None:
        owned = {connection_id: my_connection(session, actor, connection_id)}
    else:
        owned = {
            c.id: c
            for c in session.scalars(
                select(SyncConnection).where(SyncConnection.company_id == actor.company_id)
            )
        }
    ids = list(owned)
    statement: Select[Any] = (
        select(SyncConflict)
        .where(
            SyncConflict.connection_id.in_(ids),
            SyncConflict.status == OPEN,
            _visible(actor, _kinds_of(session, ids)),
        )
        .execution_options(**rls.as_company(actor.company_id))
    )  # the gate's filter, in SQL
    if field:
        statement = statement.where(SyncConflict.field == field)
    if record_id is not None:
        statement = statement.where(SyncConflict.record_id == record_id)
    rows, next_cursor = paginate(
        session, statement, ORDER, limit=limit, cursor=cursor, key_of=lambda r: [r.id]
    )
    titles = gate.visible_titles(session, actor.principal, [(r.kind, r.record_id) for r in rows])
    presenter = _Presenter(session, actor)
    return [
        presenter.out(row, owned[row.connection_id], titles.get(row.record_id)) for row in rows
    ], next_cursor


def fields_in_conflict(
    session: Session, actor: Actor, connection_id: uuid.UUID
) -> list[tuple[str, str]]:
    """(reference, label) of the fields with open conflicts: the inbox's field filter."""
    _may_decide(actor)
    my_connection(session, actor, connection_id)
    rows = session.execute(
        select(SyncConflict.kind, SyncConflict.field)
        .where(SyncConflict.connection_id == connection_id, SyncConflict.status == OPEN)
        .distinct()
    ).all()
    presenter = _Presenter(session, actor)
    labels: dict[str, str] = {}
    for kind, ref in rows:
        labels.setdefault(ref, presenter.info(kind, ref).label)
    return sorted(labels.items(), key=lambda item: item[1].lower())


def _mine(
    session: Session, actor: Actor, conflict_id: uuid.UUID
) -> tuple[SyncConflict, SyncConnection]:
    """My company's conflict on a record the viewer may see; 404 otherwise."""
    found = session.execute(
        select(SyncConflict, SyncConnection)
        .join(SyncConnection, SyncConnection.id == SyncConflict.connection_id)
        .where(SyncConflict.id == conflict_id, SyncConnection.company_id == actor.company_id)
    ).first()
    if found is None:
        raise not_found("conflict")
    row, connection = found
    try:
        gate.check(session, actor.principal, row.kind, row.record_id)
    except Problem as exc:
        raise not_found("conflict") from exc
    return row, connection


def get(session: Session, actor: Actor, conflict_id: uuid.UUID) -> ConflictOut:
    _may_decide(actor)
    row, connection = _mine(session, actor, conflict_id)
    title = gate.visible_titles(session, actor.principal, [(row.kind, row.record_id)]).get(
        row.record_id
    )
    return _Presenter(session, actor).out(row, connection, title)


def _mapped_field(session: Session, connection: SyncConnection, row: SyncConflict) -> FieldMap:
    mapping = connections.mapping_for(session, connection.id, row.kind)
    field = (
        next((f for f in connections.field_maps(mapping) if f.local == row.field), None)
        if mapping is not None
        else None
    )
    if field is None:
        raise conflict(
            "sync-field-unmapped",
            "This field is no longer synced with the CRM, so there is no value to switch to "
            "here: keep the conflict, and change the field yourself if needed.",
        )
    return field


def _switch(session: Session, actor: Actor, connection: SyncConnection, row: SyncConflict) -> None:
    field = _mapped_field(session, connection, row)
    local = localview.read(session, actor, connection.id, row.kind, row.record_id, [field])
    crm_won = row.winner == Owner.CRM.value
    holding, chosen = (
        (row.crm_value, row.coterie_value) if crm_won else (row.coterie_value, row.crm_value)
    )
    if local.values.get(field.local) != holding:
        raise conflict(
            "sync-conflict-outdated",
            "The record's value changed since this conflict was found: someone edited it, or "
            "the sync brought a newer value. Keep the conflict; the record shows the newer value.",
        )
    if field.is_core and not local.owned:
        raise forbidden("Only the owner company edits the shared core of this record.")
    if not field.is_core and local.space_version is None:
        raise conflict("sync-no-space", "Your company has no space on this record any more.")
    link = session.get(SyncLink, row.link_id)
    shadow = links.shadows(session, row.link_id).get(field.local) if link else None
    # the CRM still holds its value unless the push already overwrote it with Coterie's
    crm_holds_it = not crm_won and shadow is not None and to_local(field, shadow.remote) == chosen
    set_origin(session, connection.id)  # the write queues no push of its own: we decide below
    try:
        localview.write(session, actor, connection.id, local, {field.local: chosen})
    finally:
        set_origin(session, None)
    if crm_holds_it and link is not None and shadow is not None:
        links.save_shadows(
            session, link.id, {field.local: Shadow(chosen, shadow.remote)}, link.remote_version
        )
    else:
        queue_push(
            session,
            connection.id,
            connection.company_id,
            row.kind,
            row.record_id,
            f"resolve:{row.id}",
        )


def resolve(
    session: Session, actor: Actor, conflict_id: uuid.UUID, expected: int, choice: Choice
) -> ConflictOut:
    """Decide one conflict at version `expected` (the version the person saw)."""
    _may_decide(actor)
    row, connection = _mine(session, actor, conflict_id)
    conditional.claim_version(session, row, expected, "conflict")
    if row.status != OPEN:
        raise conflict("sync-conflict-resolved", "Someone already decided this conflict.")
    if choice == Choice.SWITCH:
        _switch(session, actor, connection, row)
    row.status = RESOLVED
    row.resolution = "kept" if choice == Choice.KEEP else "switched"
    row.resolved_at = utcnow()
    row.resolved_by_user_id = actor.user_id
    audit.record(
        session,
        actor,
        f"sync.conflict.{row.resolution}",
        "sync_conflict",
        row.id,
        record_id=str(row.record_id),
        field=row.field,
        winner=row.winner,
    )
    session.flush()
    title = gate.visible_titles(session, actor.principal, [(row.kind, row.record_id)]).get(
        row.record_id
    )
    return _Presenter(session, actor).out(row, connection, title)


def keep_all(session: Session, actor: Actor, conflict_ids: Sequence[uuid.UUID]) -> int:
    """Confirm the winner of these open conflicts (my company's, on records I may see) in one
    UPDATE; how many this request resolved (others were decided meanwhile, or are not mine)."""
    _may_decide(actor)
    ids = list(dict.fromkeys(conflict_ids))
    mine = select(SyncConnection.id).where(SyncConnection.company_id == actor.company_id)
    candidates = list(
        session.execute(
            select(SyncConflict.id, SyncConflict.kind).where(
                SyncConflict.id.in_(ids),
                SyncConflict.connection_id.in_(mine),
                SyncConflict.status == OPEN,
            )
        ).all()
    )
    if not candidates:
        return 0
    now = utcnow()
    result = session.execute(
        update(SyncConflict)
        .where(
            SyncConflict.id.in_([cid for cid, _ in candidates]),
            SyncConflict.connection_id.in_(mine),
            SyncConflict.status == OPEN,
            _visible(actor, {kind for _, kind in candidates}),
        )
        .values(
            status=RESOLVED,
            resolution="kept",
            resolved_at=now,
            resolved_by_user_id=actor.user_id,
            version=SyncConflict.version + 1,
        )
        .returning(SyncConflict.id)
        .execution_options(synchronize_session=False, **rls.as_company(actor.company_id))
    )
    kept = list(result.scalars())
    for cid in kept:
        audit.record(session, actor, "sync.conflict.kept", "sync_conflict", cid, bulk=True)
    return len(kept)


def records_in_conflict(
    session: Session, actor: Actor, connection_id: uuid.UUID
) -> list[tuple[uuid.UUID, str]]:
    """(record id, title) of the records with open conflicts the viewer may see: the inbox's
    record filter."""
    _may_decide(actor)
    my_connection(session, actor, connection_id)
    pairs = session.execute(
        select(SyncConflict.kind, SyncConflict.record_id)
        .where(SyncConflict.connection_id == connection_id, SyncConflict.status == OPEN)
        .distinct()
    ).all()
    titles = gate.visible_titles(session, actor.principal, pairs)
    return sorted(titles.items(), key=lambda item: item[1].lower())
