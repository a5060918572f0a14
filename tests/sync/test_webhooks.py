"""The webhook receiver: a CRM's event signed with the connection's secret is kept once (a
duplicate is dropped by the database), a bad signature is refused with 401 and nothing kept,
and garbage never makes a 500."""

from __future__ import annotations

import json
import uuid

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from coterie.models.sync import SyncConnection, SyncInboxEvent
from coterie.sync import service
from tests.fixtures.builders import make_company
from tests.sync.memory_crm import MemoryCrm, sign
from tests.sync.test_integrations_api import connect

PROBLEM = "application/problem+json"


def _secret(app: FastAPI, connection_id: str) -> str:
    with app.state.session_factory() as session:
        row = session.get(SyncConnection, uuid.UUID(connection_id))
        assert row is not None
        secret = service.webhook_secret(app.state.settings, row)
        assert secret
        return secret


def _events(app: FastAPI) -> list[tuple[str, str]]:
    with app.state.session_factory() as session:
        return [
            (e.event_id, e.remote_id)
            for e in session.scalars(select(SyncInboxEvent).order_by(SyncInboxEvent.event_id))
        ]


def test_signed_events_are_kept_once_and_bad_signatures_refused(
    client: TestClient, app: FastAPI, crm: MemoryCrm
) -> None:
    acme = make_company(client, "Acme")
    created = connect(client, acme)
    url = f"/api/v1/sync/webhooks/{created['id']}"
    secret = _secret(app, created["id"])
    body = json.dumps(
        {"events": [{"id": "e1", "object": "Opportunity", "record_id": "M000042"}]}
    ).encode()

    accepted = client.post(url, content=body, headers=sign(secret, body))
    assert accepted.status_code == 202, accepted.text
    assert _events(app) == [("e1", "M000042")]
    again = client.post(url, content=body, headers=sign(secret, body))
    assert again.status_code == 202  # the CRM retried: fine, and still one event
    assert _events(app) == [("e1", "M000042")]

    forged = client.post(url, content=body, headers=sign("not-the-secret", body))
    assert forged.status_code == 401
    assert forged.headers["content-type"] == PROBLEM
    assert forged.json()["type"] == "/problems/bad-signature"
    other = json.dumps(
        {"events": [{"id": "e2", "object": "Opportunity", "record_id": "M000043"}]}
    ).encode()
    unsigned = client.post(url, content=other, headers={"content-type": "application/json"})
    assert unsigned.status_code == 401
    assert _events(app) == [("e1", "M000042")]

    garbage = b"\x00not json at all"
    refused = client.post(url, content=garbage, headers=sign(secret, garbage))
    assert refused.status_code == 400
    assert refused.headers["content-type"] == PROBLEM
    wrong_shape = b'{"events": "nope"}'
    assert (
        client.post(url, content=wrong_shape, headers=sign(secret, wrong_shape)).status_code == 400
    )

    nowhere = client.post(
        f"/api/v1/sync/webhooks/{uuid.uuid4()}", content=body, headers=sign(secret, body)
    )
    assert nowhere.status_code == 404
    assert client.post("/api/v1/sync/webhooks/not-an-id", content=body).status_code == 422
