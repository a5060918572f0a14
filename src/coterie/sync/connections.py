"""A connection as the engine uses it: its connector built from sealed credentials, the
principal it reads and writes as, and its mappings.

The sync acts as `run_as_user_id`, an active user of the connection's company (the admin who
connected it, unless another admin changes it), with "hide private fields" off: my company's
private values belong in my company's CRM. Partner values arrive masked by the gate exactly as
that user would see them, so nothing a partner did not share with my company can be read, let
alone written into my CRM.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor, background_actor
from coterie.config import Settings
from coterie.models import User
from coterie.models.sync import ConnectionStatus, SyncConnection, SyncMapping
from coterie.sync import secrets
from coterie.sync.connectors.base import Connector, SyncError
from coterie.sync.connectors.registry import connector_class
from coterie.sync.mapping import FieldMap, parse_fields


class ConnectionUnusableError(SyncError):
    """The connection cannot run now (paused, credentials refused, its user gone)."""


def build_connector(settings: Settings, connection: SyncConnection) -> Connector:
    cls = connector_class(connection.kind)
    return cls(secrets.unseal(settings, connection.credentials))


def actor_of(session: Session, connection: SyncConnection) -> Actor:
    """The principal the sync reads and writes as (see the module docstring)."""
    user = session.get(User, connection.run_as_user_id) if connection.run_as_user_id else None
    if user is None or not user.is_active or user.company_id != connection.company_id:
        raise ConnectionUnusableError(
            "The user this connection runs as is no longer active in your company: choose "
            "another on Settings > Integrations."
        )
    return background_actor(session, user, "sync", show_private=True)


def usable(connection: SyncConnection) -> None:
    if connection.status != ConnectionStatus.ACTIVE.value:
        raise ConnectionUnusableError(f"The connection is {connection.status}.")


def mappings(session: Session, connection_id: uuid.UUID) -> list[SyncMapping]:
    return list(
        session.scalars(
            select(SyncMapping)
            .where(SyncMapping.connection_id == connection_id, SyncMapping.enabled.is_(True))
            .order_by(SyncMapping.kind)
        )
    )


def mapping_for(session: Session, connection_id: uuid.UUID, kind: str) -> SyncMapping | None:
    return session.scalar(
        select(SyncMapping).where(
            SyncMapping.connection_id == connection_id,
            SyncMapping.kind == kind,
            SyncMapping.enabled.is_(True),
        )
    )


def field_maps(mapping: SyncMapping) -> list[FieldMap]:
    return parse_fields(mapping.fields)
