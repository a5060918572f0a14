"""Recent changes on every record a principal sees: the home page's "Recent activity".

The same rules as a record's timeline (`activity.timeline`): only records the gate shows
(`gate.visible_ids`), only changes the principal may see *now* (`timeline.change_visible`: the
shared core and participants, its own fields less private ones while "hide private fields" is
on, a partner's fields only while that partner shares them and takes part), worded as the
timeline words them. One statement per record kind finds the newest changes; only the kinds
among the `limit` newest are then presented, so the work does not grow with the number of
records.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie.activity import timeline
from coterie.activity.notification_text import record_url
from coterie.auth.principal import Actor
from coterie.authz import gate, rls
from coterie.fields.kinds import Kind
from coterie.models import Record
from coterie.models.activity import RecordChange

DEFAULT_LIMIT = 10


@dataclass(frozen=True)
class RecentChange:
    """One change, as the home page lists it: what happened, on which record, when, by whom."""

    at: datetime
    text: str
    kind: str
    record_id: uuid.UUID
    record_title: str
    url: str | None
    actor_name: str | None


def recent_changes(
    session: Session, actor: Actor, limit: int = DEFAULT_LIMIT
) -> list[RecentChange]:
    """The `limit` newest changes the actor may see on the records it may see, newest first."""
    principal = actor.principal
    options = rls.as_company(principal.company_id)
    found: list[tuple[RecordChange, str]] = []
    own_keys: dict[str, frozenset[str]] = {}
    for kind in Kind:
        own_keys[kind.value] = timeline.own_keys_of(session, principal, kind.value)
        rows = session.execute(
            select(RecordChange, Record.title)
            .join(Record, Record.id == RecordChange.record_id)
            .where(
                RecordChange.kind == kind.value,
                RecordChange.record_id.in_(gate.visible_ids(principal, kind.value)),
                timeline.change_visible(principal, kind.value, own_keys[kind.value]),
            )
            .order_by(RecordChange.at.desc(), RecordChange.id.desc())
            .limit(limit)
            .execution_options(**options)
        ).all()
        found.extend((change, title) for change, title in rows)
    found.sort(key=lambda row: (row[0].at, row[0].id), reverse=True)
    newest = found[:limit]
    texts: dict[uuid.UUID, tuple[str, str | None]] = {}
    for kind_value in sorted({change.kind for change, _ in newest}):
        entries = [
            timeline.Entry(change.at, change.id, change)
            for change, _ in newest
            if change.kind == kind_value
        ]
        for item in timeline.present_entries(session, actor, principal, kind_value, entries):
            texts[item.id] = (item.text, item.actor.name if item.actor is not None else None)
    return [
        RecentChange(
            at=change.at,
            text=texts[change.id][0],
            kind=change.kind,
            record_id=change.record_id,
            record_title=title,
            url=record_url(change.kind, change.record_id),
            actor_name=texts[change.id][1],
        )
        for change, title in newest
        if change.id in texts
    ]
