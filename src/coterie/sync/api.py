"""The integrations API (company admins): installed connectors, connections and their status,
credentials tests, mappings with ETag / If-Match, runs, dead pushes, and the webhook receiver
the CRMs call (authenticated by its signature, not by a token)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status

from coterie.auth.dependencies import ApiActor
from coterie.deps import DB, AppSettings
from coterie.kit.preconditions import PRECONDITION_RESPONSES, expected_version, set_etag
from coterie.sync import outputs, service, webhooks
from coterie.sync.schemas import (
    ConnectionIn,
    ConnectionOut,
    ConnectionPatch,
    ConnectorOut,
    CredentialsIn,
    MappingIn,
    MappingOut,
    RetriedOut,
    RunOut,
    TestOut,
)

router = APIRouter(tags=["CRM sync"])
CONNECTION = "/sync/connections/{connection_id}"
ADMINS: dict[int | str, dict[str, Any]] = {403: {"description": "Not an admin of the company"}}
ONE: dict[int | str, dict[str, Any]] = {
    **ADMINS,
    404: {"description": "No such connection of my company"},
}
REFUSED: dict[int | str, dict[str, Any]] = {
    422: {
        "description": "Invalid input, or the CRM refused the credentials (/problems/crm-refused)"
    }
}
ConnectionVersion = Annotated[
    int, expected_version("the connection's ETag from GET /api/v1/sync/connections/{id}")
]
MappingVersion = Annotated[
    int, expected_version("the mapping's ETag from GET /api/v1/sync/connections/{id}/mappings/{id}")
]


@router.get(
    "/sync/connectors",
    response_model=list[ConnectorOut],
    summary="The CRM connectors installed here, with the credentials each asks for",
)
def list_connectors(actor: ApiActor) -> list[ConnectorOut]:
    service.require_admin(actor)
    return outputs.connectors()


@router.post(
    "/sync/connectors/{kind}/test",
    response_model=TestOut,
    summary="Try credentials before connecting: the CRM's answer, nothing saved (admins)",
    responses={**ADMINS, **REFUSED},
)
def test_credentials(kind: str, body: CredentialsIn, actor: ApiActor) -> TestOut:
    return TestOut(ok=True, message=service.try_credentials(actor, kind, body.credentials))


@router.get(
    "/sync/connections",
    response_model=list[ConnectionOut],
    summary="My company's CRM connections with their sync status (admins)",
    responses=ADMINS,
)
def list_connections(actor: ApiActor, session: DB, settings: AppSettings) -> list[ConnectionOut]:
    return outputs.connections(session, settings, actor, service.list_for(session, actor))


@router.post(
    "/sync/connections",
    response_model=ConnectionOut,
    status_code=status.HTTP_201_CREATED,
    summary="Connect a CRM: the credentials are checked with the CRM first (admins)",
    description="Nothing is saved when the CRM refuses (422 with the CRM's message on the "
    "credential it concerns). The new connection runs as the caller and starts with a default "
    "mapping of each CRM object; edit them before the first run, or pause it meanwhile.",
    responses={**ADMINS, **REFUSED},
)
def create_connection(
    body: ConnectionIn, actor: ApiActor, session: DB, settings: AppSettings, response: Response
) -> ConnectionOut:
    row = service.connect(session, settings, actor, body.kind, body.name, body.credentials)
    session.commit()
    response.headers["Location"] = f"/api/v1/sync/connections/{row.id}"
    set_etag(response, row.version)
    return outputs.connection(session, settings, actor, row)


@router.get(
    CONNECTION,
    response_model=ConnectionOut,
    summary="One connection and its status; ETag is its version",
    responses=ONE,
)
def get_connection(
    connection_id: uuid.UUID,
    actor: ApiActor,
    session: DB,
    settings: AppSettings,
    response: Response,
) -> ConnectionOut:
    row = service.get(session, actor, connection_id)
    set_etag(response, row.version)
    return outputs.connection(session, settings, actor, row)


@router.patch(
    CONNECTION,
    response_model=ConnectionOut,
    summary="Rename, pause or resume a connection, or change the admin it runs as",
    responses={**ONE, **PRECONDITION_RESPONSES, 422: {"description": "Invalid input"}},
)
def patch_connection(
    connection_id: uuid.UUID,
    body: ConnectionPatch,
    version: ConnectionVersion,
    actor: ApiActor,
    session: DB,
    settings: AppSettings,
    response: Response,
) -> ConnectionOut:
    row = service.update(
        session,
        actor,
        connection_id,
        version,
        name=body.name,
        run_as_user_id=body.run_as_user_id,
        paused=body.paused,
        poll_seconds=body.poll_seconds,
        overlap_seconds=body.overlap_seconds,
        daily_budget=body.daily_budget,
    )
    session.commit()
    set_etag(response, row.version)
    return outputs.connection(session, settings, actor, row)


@router.delete(
    CONNECTION,
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a connection: its links and queued pushes go, records stay on both sides",
    responses=ONE,
)
def delete_connection(connection_id: uuid.UUID, actor: ApiActor, session: DB) -> Response:
    service.delete(session, actor, connection_id)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    f"{CONNECTION}/test",
    response_model=TestOut,
    summary="Log in to the CRM with the saved credentials now",
    responses=ONE,
)
def test_connection(
    connection_id: uuid.UUID, actor: ApiActor, session: DB, settings: AppSettings
) -> TestOut:
    result = service.test(session, settings, actor, connection_id)
    session.commit()
    return TestOut(ok=result.ok, message=result.message)


@router.post(
    f"{CONNECTION}/reconnect",
    response_model=ConnectionOut,
    summary="New credentials: checked, saved, the connection active again, dead pushes retried",
    responses={**ONE, **REFUSED},
)
def reconnect(
    connection_id: uuid.UUID,
    body: CredentialsIn,
    actor: ApiActor,
    session: DB,
    settings: AppSettings,
) -> ConnectionOut:
    row = service.reconnect(session, settings, actor, connection_id, body.credentials)
    session.commit()
    return outputs.connection(session, settings, actor, row)


@router.post(
    f"{CONNECTION}/sync-now",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Run the sync of this connection now, in the background",
    responses={**ONE, 409: {"description": "Paused or needs reconnecting"}},
)
def sync_now(connection_id: uuid.UUID, actor: ApiActor, session: DB) -> Response:
    service.sync_now(session, actor, connection_id)
    session.commit()
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.post(
    f"{CONNECTION}/retry-dead",
    response_model=RetriedOut,
    summary="Queue the pushes to the CRM that were given up on again",
    responses=ONE,
)
def retry_dead(connection_id: uuid.UUID, actor: ApiActor, session: DB) -> RetriedOut:
    retried = service.retry_dead(session, actor, connection_id)
    session.commit()
    return RetriedOut(retried=retried)


@router.get(
    f"{CONNECTION}/runs",
    response_model=list[RunOut],
    summary="The connection's latest runs, newest first, with their counts",
    responses=ONE,
)
def list_runs(
    connection_id: uuid.UUID,
    actor: ApiActor,
    session: DB,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[RunOut]:
    return [outputs.run(r) for r in service.runs(session, actor, connection_id, limit)]


@router.get(
    f"{CONNECTION}/mappings",
    response_model=list[MappingOut],
    summary="The connection's mappings: one per Coterie record kind",
    responses=ONE,
)
def list_mappings(connection_id: uuid.UUID, actor: ApiActor, session: DB) -> list[MappingOut]:
    return [outputs.mapping(m) for m in service.mappings(session, actor, connection_id)]


@router.get(
    f"{CONNECTION}/mappings/{{mapping_id}}",
    response_model=MappingOut,
    summary="One mapping; ETag is its version",
    responses=ONE,
)
def get_mapping(
    connection_id: uuid.UUID,
    mapping_id: uuid.UUID,
    actor: ApiActor,
    session: DB,
    response: Response,
) -> MappingOut:
    mapping, _ = service.get_mapping(session, actor, mapping_id, connection_id)
    set_etag(response, mapping.version)
    return outputs.mapping(mapping)


@router.put(
    f"{CONNECTION}/mappings/{{mapping_id}}",
    response_model=MappingOut,
    summary="Replace a mapping: fields checked against my fields and the CRM's",
    description="Each field names a Coterie field (`record.title`, `space.<key>`, or "
    "`partner.<company>.<key>` for a field that partner shares with my company now) and a field "
    "of the CRM object. A 422 lists every offending path (`body.fields.2.remote`).",
    responses={
        **ONE,
        **PRECONDITION_RESPONSES,
        422: {"description": "A field my company may not map, or the CRM does not have"},
        503: {"description": "The CRM did not describe its fields (/problems/crm-unavailable)"},
    },
)
def put_mapping(
    connection_id: uuid.UUID,
    mapping_id: uuid.UUID,
    body: MappingIn,
    version: MappingVersion,
    actor: ApiActor,
    session: DB,
    settings: AppSettings,
    response: Response,
) -> MappingOut:
    service.get_mapping(session, actor, mapping_id, connection_id)  # 404 for another connection's
    mapping = service.update_mapping(session, settings, actor, mapping_id, version, body)
    session.commit()
    set_etag(response, mapping.version)
    return outputs.mapping(mapping)


async def _raw_body(request: Request) -> bytes:
    return await request.body()


@router.post(
    "/sync/webhooks/{connection_id}",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Where a CRM pushes its change events (signed with the connection's secret)",
    description="No bearer token: the signature is checked with the connection's webhook "
    "secret. Duplicate events are dropped; the next run fetches the records' current state.",
    responses={
        400: {"description": "The body is not an event this CRM sends"},
        401: {"description": "The signature does not verify (/problems/bad-signature)"},
        404: {"description": "No connection takes events at this address"},
    },
)
def receive_webhook(
    connection_id: uuid.UUID,
    request: Request,
    body: Annotated[bytes, Depends(_raw_body)],
    session: DB,
    settings: AppSettings,
) -> Response:
    headers = {k.lower(): v for k, v in request.headers.items()}
    webhooks.receive(session, settings, connection_id, headers, body)
    session.commit()
    return Response(status_code=status.HTTP_202_ACCEPTED)
