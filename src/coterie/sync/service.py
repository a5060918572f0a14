"""Settings > Integrations: a company's admins connect a CRM, test it, pause and resume it,
choose the user it runs as, edit its mappings, retry its dead pushes and delete it.

One function per use case; none commits (the caller does) and each adds an audit row. Only a
company admin acts (403 for anyone else); another company's connection or mapping answers 404,
since hidden means nonexistent. Credentials are checked against the CRM before anything is
saved and sealed at rest (`coterie.sync.secrets`); they are never given back, except the
values of fields the connector does not mark secret.
"""

from __future__ import annotations

import secrets as random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import delete as sql_delete
from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie import audit
from coterie.auth.principal import Actor
from coterie.config import Settings
from coterie.db import utcnow
from coterie.kit import conditional, jobs
from coterie.kit.problems import Problem, invalid, not_found
from coterie.models import User
from coterie.models.outbox import DEAD, OutboxMessage
from coterie.models.sync import ConnectionStatus, SyncConnection, SyncMapping, SyncRun
from coterie.models.vocabulary import Role
from coterie.outbox import claims
from coterie.outbox.store import DELIVER_TASK
from coterie.sync import connections, defaults, localfields, mapping_checks
from coterie.sync import credentials as creds
from coterie.sync import secrets as sealing
from coterie.sync.connectors.base import Connector, RemoteObject
from coterie.sync.connectors.registry import UnknownConnector, connector_class
from coterie.sync.queueing import CHANNEL
from coterie.sync.schemas import MappingIn
from coterie.sync.tasks import RUN_TASK

WEBHOOK_PATH = "/api/v1/sync/webhooks/{connection_id}"
WEBHOOK_SECRET = "webhook_secret"  # noqa: S105 (the key it is sealed under)
RUNS_SHOWN = 10


def require_admin(actor: Actor) -> None:
    actor.require_role(Role.ADMIN, "manage the CRM integrations")


def my_connection(session: Session, actor: Actor, connection_id: uuid.UUID) -> SyncConnection:
    """One of my company's connections; 404 for another company's, as if it did not exist."""
    connection = session.get(SyncConnection, connection_id)
    if connection is None or connection.company_id != actor.company_id:
        raise not_found("connection")
    return connection


def get(session: Session, actor: Actor, connection_id: uuid.UUID) -> SyncConnection:
    """One of my company's connections (admins); any other is 404."""
    require_admin(actor)
    return my_connection(session, actor, connection_id)


def list_for(session: Session, actor: Actor) -> list[SyncConnection]:
    require_admin(actor)
    return list(
        session.scalars(
            select(SyncConnection)
            .where(SyncConnection.company_id == actor.company_id)
            .order_by(SyncConnection.created_at)
        )
    )


def connector_of(settings: Settings, connection: SyncConnection) -> Connector:
    """The connection's connector from its sealed credentials; 503 when it cannot be built."""
    try:
        return connections.build_connector(settings, connection)
    except UnknownConnector:
        raise Problem(
            503,
            "connector-missing",
            "Connector not installed",
            f"The {connection.kind} connector is not installed on this server any more.",
        ) from None
    except sealing.UnreadableSecretError as exc:
        raise Problem(503, "credentials-unreadable", "Reconnect needed", str(exc)) from exc


def remote_objects(settings: Settings, connection: SyncConnection) -> list[RemoteObject]:
    """The CRM's objects as the connector describes them now; 503 when the CRM does not say."""
    connector = connector_of(settings, connection)
    try:
        return list(connector.objects())
    except Exception as exc:  # a connector's or its client's error: the CRM is unavailable
        raise Problem(
            503,
            "crm-unavailable",
            "The CRM did not answer",
            f"Coterie could not read the CRM's fields: {exc}",
        ) from exc
    finally:
        connector.close()


def settings_of(settings: Settings, connection: SyncConnection) -> dict[str, str]:
    """The connection's credentials that are not secret (a URL, a user name)."""
    try:
        cls = connector_class(connection.kind)
        values = sealing.unseal(settings, connection.credentials)
    except (UnknownConnector, sealing.UnreadableSecretError):
        return {}
    return {
        f.name: values[f.name] for f in cls.credential_fields if not f.secret and f.name in values
    }


def webhook_url(settings: Settings, connection: SyncConnection) -> str | None:
    try:
        pushes = connector_class(connection.kind).capabilities.webhooks
    except UnknownConnector:
        return None
    if not pushes:
        return None
    return settings.resolved_base_url + WEBHOOK_PATH.format(connection_id=connection.id)


def webhook_secret(settings: Settings, connection: SyncConnection) -> str | None:
    if connection.webhook_secret is None:
        return None
    try:
        return sealing.unseal(settings, connection.webhook_secret).get(WEBHOOK_SECRET)
    except sealing.UnreadableSecretError:
        return None


# --- connecting ---------------------------------------------------------------------------


def try_credentials(actor: Actor, kind: str, given: Mapping[str, str]) -> str:
    """The connector's sentence for credentials typed in the connect form (nothing saved)."""
    require_admin(actor)
    cls = creds.connector_kind(kind)
    connector, sentence = creds.verified(cls, creds.cleaned(cls, given))
    connector.close()
    return sentence


def _object_kinds(objects: Sequence[RemoteObject]) -> list[tuple[RemoteObject, str]]:
    """Each CRM object with one record kind no other object took (a kind maps one object, and
    an object one kind, or its records would be read twice). Objects holding a single kind
    choose first (Salesforce's Lead is the lead); an object holding several takes the furthest
    along the pipeline still free (Salesforce's or Tryton's opportunity: the opportunity)."""
    taken: set[str] = set()
    chosen: dict[str, str] = {}
    for obj in sorted(objects, key=lambda o: len(o.kinds)):
        kind = next((k for k in reversed(obj.kinds) if k not in taken), None)
        if kind is not None:
            taken.add(kind)
            chosen[obj.name] = kind
    return [(obj, chosen[obj.name]) for obj in objects if obj.name in chosen]


def connect(
    session: Session,
    settings: Settings,
    actor: Actor,
    kind: str,
    name: str,
    given: Mapping[str, str],
) -> SyncConnection:
    """A new connection, once the CRM accepted the credentials, with a default mapping of each
    object the connector syncs; it runs as the admin who connected it."""
    require_admin(actor)
    cls = creds.connector_kind(kind)
    values = creds.cleaned(cls, given)
    connector, _sentence = creds.verified(cls, values)
    try:
        objects = list(connector.objects())
    except Exception as exc:  # the CRM answered the check but not the description
        raise creds.refused(cls, exc) from exc
    finally:
        connector.close()
    connection = SyncConnection(
        company_id=actor.company_id,
        kind=kind,
        name=name.strip(),
        status=ConnectionStatus.ACTIVE.value,
        credentials=sealing.seal(settings, values),
        webhook_secret=sealing.seal(settings, {WEBHOOK_SECRET: random.token_urlsafe(32)}),
        run_as_user_id=actor.user_id,
        created_by_user_id=actor.user_id,
        version=1,
    )
    session.add(connection)
    session.flush()
    for obj, record_kind in _object_kinds(objects):
        session.add(
            SyncMapping(
                connection_id=connection.id,
                kind=record_kind,
                remote_object=obj.name,
                fields=defaults.as_stored(defaults.default_fields(kind, obj, record_kind)),
                version=1,
            )
        )
    session.flush()
    audit.record(session, actor, "sync.connected", "sync_connection", connection.id, kind=kind)
    return connection


@dataclass(frozen=True)
class Tested:
    ok: bool
    message: str


def test(session: Session, settings: Settings, actor: Actor, connection_id: uuid.UUID) -> Tested:
    """Log in to the CRM with the saved credentials now."""
    connection = get(session, actor, connection_id)
    try:
        connector = connector_of(settings, connection)  # 503 when the connector is gone
        try:
            result = Tested(True, connector.check())
        finally:
            connector.close()
    except Problem as problem:
        result = Tested(False, problem.detail)
    except Exception as exc:  # the connector's refusal is the answer, not a failure
        result = Tested(False, creds.refused(connector_class(connection.kind), exc).detail)
    audit.record(session, actor, "sync.tested", "sync_connection", connection.id, ok=result.ok)
    return result


def _retry_dead_rows(session: Session, connection: SyncConnection) -> int:
    dead = list(
        session.scalars(
            select(OutboxMessage.id).where(
                OutboxMessage.channel == CHANNEL,
                OutboxMessage.recipient == str(connection.id),
                OutboxMessage.company_id == connection.company_id,
                OutboxMessage.status == DEAD,
            )
        )
    )
    now = utcnow()
    retried = 0
    for message_id in dead:
        if claims.retry(session, message_id, connection.company_id, now):
            jobs.after_commit(session, DELIVER_TASK, str(message_id))
            retried += 1
    return retried


def reconnect(
    session: Session,
    settings: Settings,
    actor: Actor,
    connection_id: uuid.UUID,
    given: Mapping[str, str],
) -> SyncConnection:
    """New credentials (a secret left empty keeps the saved one): checked, saved, the connection
    active again and its dead pushes queued again."""
    connection = get(session, actor, connection_id)
    cls = creds.connector_kind(connection.kind)
    try:
        saved = sealing.unseal(settings, connection.credentials)
    except sealing.UnreadableSecretError:
        saved = {}
    values = creds.cleaned(cls, given, saved)
    connector, _sentence = creds.verified(cls, values)
    connector.close()
    conditional.bump_version(session, connection)
    connection.credentials = sealing.seal(settings, values)
    connection.status = ConnectionStatus.ACTIVE.value
    connection.last_error = None
    retried = _retry_dead_rows(session, connection)
    session.flush()
    audit.record(session, actor, "sync.reconnected", "sync_connection", connection.id,
                 retried=retried)  # fmt: skip
    jobs.after_commit(session, RUN_TASK, str(connection.id))
    return connection


def set_paused(
    session: Session, actor: Actor, connection_id: uuid.UUID, paused: bool
) -> SyncConnection:
    connection = get(session, actor, connection_id)
    _set_paused(session, actor, connection, paused)
    return connection


def _set_paused(session: Session, actor: Actor, connection: SyncConnection, paused: bool) -> None:
    if paused and connection.status != ConnectionStatus.ACTIVE.value:
        return  # already paused, or in error: nothing runs anyway
    if not paused and connection.status != ConnectionStatus.PAUSED.value:
        return
    conditional.bump_version(session, connection)
    connection.status = (ConnectionStatus.PAUSED if paused else ConnectionStatus.ACTIVE).value
    session.flush()
    action = "sync.paused" if paused else "sync.resumed"
    audit.record(session, actor, action, "sync_connection", connection.id)
    if not paused:
        jobs.after_commit(session, RUN_TASK, str(connection.id))


def run_as_choices(session: Session, actor: Actor) -> list[User]:
    """The users a connection may run as: my company's active admins."""
    require_admin(actor)
    return list(
        session.scalars(
            select(User)
            .where(
                User.company_id == actor.company_id,
                User.is_active.is_(True),
                User.role == Role.ADMIN.value,
            )
            .order_by(User.name)
        )
    )


def _run_as(session: Session, actor: Actor, connection: SyncConnection, user_id: uuid.UUID) -> None:
    if user_id not in {u.id for u in run_as_choices(session, actor)}:
        raise invalid("body.run_as_user_id", "is not an active admin of your company")
    connection.run_as_user_id = user_id


def set_run_as(
    session: Session, actor: Actor, connection_id: uuid.UUID, user_id: uuid.UUID
) -> SyncConnection:
    connection = get(session, actor, connection_id)
    if connection.run_as_user_id != user_id:
        _run_as(session, actor, connection, user_id)
        conditional.bump_version(session, connection)
        session.flush()
        audit.record(session, actor, "sync.run_as_changed", "sync_connection", connection.id,
                     user_id=str(user_id))  # fmt: skip
    return connection


def update(
    session: Session,
    actor: Actor,
    connection_id: uuid.UUID,
    expected_version: int,
    *,
    name: str | None = None,
    run_as_user_id: uuid.UUID | None = None,
    paused: bool | None = None,
    poll_seconds: int | None = None,
    overlap_seconds: int | None = None,
    daily_budget: int | None = None,
) -> SyncConnection:
    """The API's PATCH: a conditional write at `expected_version` (412 when stale)."""
    connection = get(session, actor, connection_id)
    if run_as_user_id is not None and run_as_user_id != connection.run_as_user_id:
        _run_as(session, actor, connection, run_as_user_id)
    conditional.claim_version(session, connection, expected_version, "connection")
    if name is not None:
        connection.name = name.strip()
    if poll_seconds is not None:
        connection.poll_seconds = poll_seconds
    if overlap_seconds is not None:
        connection.overlap_seconds = overlap_seconds
    if daily_budget is not None:
        connection.daily_budget = daily_budget or None
    # only between active and paused: a connection in error stays so until it is reconnected
    if paused is True and connection.status == ConnectionStatus.ACTIVE.value:
        connection.status = ConnectionStatus.PAUSED.value
    elif paused is False and connection.status == ConnectionStatus.PAUSED.value:
        connection.status = ConnectionStatus.ACTIVE.value
        jobs.after_commit(session, RUN_TASK, str(connection.id))
    session.flush()
    audit.record(session, actor, "sync.updated", "sync_connection", connection.id)
    return connection


def delete(session: Session, actor: Actor, connection_id: uuid.UUID) -> None:
    """Forget the connection, its mappings, links, shadows and queued pushes (the CRM's records
    and Coterie's stay as they are)."""
    connection = get(session, actor, connection_id)
    session.execute(
        sql_delete(OutboxMessage).where(
            OutboxMessage.channel == CHANNEL, OutboxMessage.recipient == str(connection.id)
        )
    )
    audit.record(session, actor, "sync.deleted", "sync_connection", connection.id,
                 kind=connection.kind, name=connection.name)  # fmt: skip
    session.delete(connection)
    session.flush()


def sync_now(session: Session, actor: Actor, connection_id: uuid.UUID) -> SyncConnection:
    """Wake a run of the connection once the caller commits."""
    connection = get(session, actor, connection_id)
    if connection.status != ConnectionStatus.ACTIVE.value:
        raise Problem(
            409,
            "connection-not-active",
            "Not active",
            "This connection is paused or needs reconnecting: resume or reconnect it first.",
        )
    audit.record(session, actor, "sync.run_requested", "sync_connection", connection.id)
    jobs.after_commit(session, RUN_TASK, str(connection.id))
    return connection


def retry_dead(session: Session, actor: Actor, connection_id: uuid.UUID) -> int:
    """Queue the connection's dead pushes again; how many."""
    connection = get(session, actor, connection_id)
    retried = _retry_dead_rows(session, connection)
    audit.record(session, actor, "sync.dead_retried", "sync_connection", connection.id,
                 retried=retried)  # fmt: skip
    return retried


def runs(session: Session, actor: Actor, connection_id: uuid.UUID, limit: int) -> list[SyncRun]:
    connection = get(session, actor, connection_id)
    return list(
        session.scalars(
            select(SyncRun)
            .where(SyncRun.connection_id == connection.id)
            .order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
            .limit(limit)
        )
    )


# --- mappings -----------------------------------------------------------------------------


def mappings(session: Session, actor: Actor, connection_id: uuid.UUID) -> list[SyncMapping]:
    connection = get(session, actor, connection_id)
    return list(
        session.scalars(
            select(SyncMapping)
            .where(SyncMapping.connection_id == connection.id)
            .order_by(SyncMapping.kind)
        )
    )


def get_mapping(
    session: Session,
    actor: Actor,
    mapping_id: uuid.UUID,
    connection_id: uuid.UUID | None = None,
) -> tuple[SyncMapping, SyncConnection]:
    """One of my company's mappings (of the connection `connection_id`, when given) and its
    connection; any other is 404."""
    require_admin(actor)
    mapping = session.get(SyncMapping, mapping_id)
    connection = session.get(SyncConnection, mapping.connection_id) if mapping else None
    if mapping is None or connection is None or connection.company_id != actor.company_id:
        raise not_found("mapping")
    if connection_id is not None and connection.id != connection_id:
        raise not_found("mapping")
    return mapping, connection


def update_mapping(
    session: Session,
    settings: Settings,
    actor: Actor,
    mapping_id: uuid.UUID,
    expected_version: int,
    data: MappingIn,
) -> SyncMapping:
    """Replace the mapping at `expected_version` (412 when stale), once every field is checked
    against my company's fields and the CRM's (422 naming each offending path)."""
    mapping, connection = get_mapping(session, actor, mapping_id)
    objects = remote_objects(settings, connection)
    local = localfields.by_ref(localfields.catalog(session, actor, mapping.kind))
    mapping_checks.check(data, mapping.kind, objects, local)
    conditional.claim_version(session, mapping, expected_version, "mapping")
    mapping.remote_object = data.remote_object
    mapping.enabled = data.enabled
    mapping.create_in_coterie = data.create_in_coterie
    mapping.create_in_crm = data.create_in_crm
    mapping.on_crm_delete = data.on_crm_delete.value
    mapping.on_coterie_delete = data.on_coterie_delete.value
    mapping.fields = [f.model_dump(mode="json") for f in data.fields]
    mapping.updated_at = utcnow()
    session.flush()
    audit.record(session, actor, "sync.mapping_updated", "sync_mapping", mapping.id,
                 connection_id=str(connection.id), kind=mapping.kind)  # fmt: skip
    return mapping
