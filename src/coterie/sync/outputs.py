"""Connections, mappings and runs as the API and the pages show them: the status overview's
counts beside each connection, never a secret."""

from __future__ import annotations

from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.config import Settings
from coterie.models.sync import SyncConnection, SyncMapping, SyncRun
from coterie.sync import service, status
from coterie.sync.connectors import registry
from coterie.sync.connectors.base import CredentialField
from coterie.sync.schemas import (
    ConnectionOut,
    ConnectorOut,
    CredentialFieldOut,
    MappingOut,
    RunOut,
)


def _field(f: CredentialField) -> CredentialFieldOut:
    return CredentialFieldOut(
        name=f.name,
        label=f.label,
        secret=f.secret,
        placeholder=f.placeholder,
        help=f.help,
        required=f.required,
    )


def connectors() -> list[ConnectorOut]:
    return [
        ConnectorOut(
            kind=kind,
            label=cls.label,
            webhooks=cls.capabilities.webhooks,
            credential_fields=[_field(f) for f in cls.credential_fields],
        )
        for kind, cls in registry.installed().items()
    ]


def connections(
    session: Session, settings: Settings, actor: Actor, rows: list[SyncConnection]
) -> list[ConnectionOut]:
    service.require_admin(actor)
    overview = {r.id: r for r in status.overview(session, actor.company_id)}
    outs = []
    for connection in rows:
        row = overview[connection.id]
        outs.append(
            ConnectionOut(
                id=connection.id,
                kind=connection.kind,
                label=row.label,
                name=connection.name,
                status=connection.status,
                status_text=row.status_text,
                paused_until=connection.paused_until,
                last_run_at=connection.last_run_at,
                last_success_at=connection.last_success_at,
                last_error=connection.last_error,
                linked=row.linked,
                waiting=row.waiting,
                open_conflicts=row.open_conflicts,
                queued=row.queued,
                dead=row.dead,
                run_as_user_id=connection.run_as_user_id,
                settings=service.settings_of(settings, connection),
                webhook_url=service.webhook_url(settings, connection),
                version=connection.version,
                created_at=connection.created_at,
            )
        )
    return outs


def connection(
    session: Session, settings: Settings, actor: Actor, row: SyncConnection
) -> ConnectionOut:
    return connections(session, settings, actor, [row])[0]


def mapping(row: SyncMapping) -> MappingOut:
    return MappingOut.model_validate(
        {
            "id": row.id,
            "connection_id": row.connection_id,
            "kind": row.kind,
            "version": row.version,
            "updated_at": row.updated_at,
            "remote_object": row.remote_object,
            "enabled": row.enabled,
            "create_in_coterie": row.create_in_coterie,
            "create_in_crm": row.create_in_crm,
            "on_crm_delete": row.on_crm_delete,
            "on_coterie_delete": row.on_coterie_delete,
            "fields": row.fields,
        }
    )


def run(row: SyncRun) -> RunOut:
    return RunOut(
        id=row.id,
        started_at=row.started_at,
        finished_at=row.finished_at,
        pulled=row.pulled,
        pushed=row.pushed,
        created_local=row.created_local,
        created_remote=row.created_remote,
        conflicts=row.conflicts,
        errors=row.errors,
        error=row.error,
    )
