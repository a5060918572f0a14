"""Builders of sync state for the conflicts inbox and record-link tests: our own tables, written
directly (the connectors that would fill them are not what these tests are about); every action
under test then goes through the API."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coterie.models.sync import (
    LinkState,
    SyncConflict,
    SyncConnection,
    SyncLink,
    SyncMapping,
    SyncShadow,
)
from coterie.sync import secrets
from tests.fixtures.builders import Member
from tests.fixtures.sync import outbox_rows

NEXT_STEP = {"key": "next_step", "label": "Next step", "type": "text", "visibility": "private"}
FIELDS = [
    {"local": "space.next_step", "remote": "NextStep", "owner": "coterie"},
    {"local": "record.title", "remote": "Name", "owner": "crm"},
]


def _save(app: FastAPI, *rows: Any) -> None:
    session: Session = app.state.session_factory()
    try:
        session.add_all(rows)
        session.commit()
    finally:
        session.close()


def make_connection(
    app: FastAPI,
    admin: Member,
    *,
    kind: str = "salesforce",
    name: str = "Acme Salesforce",
    fields: list[dict[str, Any]] | None = None,
) -> uuid.UUID:
    """A connection of the admin's company mapping opportunities to `Opportunity`."""
    settings = app.state.settings
    connection = SyncConnection(
        id=uuid.uuid4(),
        company_id=uuid.UUID(admin.company_id),
        kind=kind,
        name=name,
        credentials=secrets.seal(settings, {"token": "t0ken"}),
        run_as_user_id=uuid.UUID(admin.user_id),
        created_by_user_id=uuid.UUID(admin.user_id),
    )
    mapping = SyncMapping(
        connection_id=connection.id,
        kind="opportunity",
        remote_object="Opportunity",
        fields=fields if fields is not None else FIELDS,
    )
    _save(app, connection)
    _save(app, mapping)
    return connection.id


def make_link(
    app: FastAPI,
    connection_id: uuid.UUID,
    record_id: str | None,
    *,
    remote_id: str | None = "006A",
    state: LinkState = LinkState.LINKED,
    candidates: list[dict[str, Any]] | None = None,
    shadows: dict[str, tuple[Any, Any]] | None = None,
) -> uuid.UUID:
    link = SyncLink(
        id=uuid.uuid4(),
        connection_id=connection_id,
        record_id=uuid.UUID(record_id) if record_id else None,
        kind="opportunity",
        remote_object="Opportunity",
        remote_id=remote_id,
        remote_version="v0" if remote_id else None,
        state=state.value,
        candidates=candidates or [],
    )
    _save(app, link)
    _save(
        app,
        *(
            SyncShadow(link_id=link.id, field=ref, local_value=local, remote_value=remote)
            for ref, (local, remote) in (shadows or {}).items()
        ),
    )
    return link.id


def make_conflict(
    app: FastAPI,
    connection_id: uuid.UUID,
    link_id: uuid.UUID,
    record_id: str,
    *,
    base: Any,
    coterie: Any,
    crm: Any,
    winner: str,
    field: str = "space.next_step",
) -> uuid.UUID:
    row = SyncConflict(
        id=uuid.uuid4(),
        connection_id=connection_id,
        link_id=link_id,
        record_id=uuid.UUID(record_id),
        kind="opportunity",
        field=field,
        base_value=base,
        coterie_value=coterie,
        crm_value=crm,
        winner=winner,
    )
    _save(app, row)
    return row.id


def crm_pushes(app: FastAPI, record_id: str) -> int:
    """How many `crm` outbox rows name the record."""
    return sum(1 for row in outbox_rows(app) if row.payload.get("record_id") == record_id)


def link_state(app: FastAPI, link_id: uuid.UUID) -> SyncLink:
    session: Session = app.state.session_factory()
    try:
        link = session.get(SyncLink, link_id)
        assert link is not None
        session.expunge(link)
        return link
    finally:
        session.close()


def shadow_of(app: FastAPI, link_id: uuid.UUID, ref: str) -> tuple[Any, Any]:
    session: Session = app.state.session_factory()
    try:
        row = session.get(SyncShadow, (link_id, ref))
        assert row is not None
        return row.local_value, row.remote_value
    finally:
        session.close()


def count_open(app: FastAPI) -> int:
    session: Session = app.state.session_factory()
    try:
        return int(
            session.scalar(
                select(func.count()).select_from(SyncConflict).where(SyncConflict.status == "open")
            )
            or 0
        )
    finally:
        session.close()
