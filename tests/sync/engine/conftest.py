"""A company connected to a fake Salesforce org, with the connector reaching it unchanged."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from coterie.models.sync import ConnectionStatus, SyncConnection
from coterie.sync.connectors import salesforce
from tests.fakes.salesforce_api import FakeSalesforce
from tests.fixtures.builders import Member, make_company
from tests.fixtures.sync import SALESFORCE_ACCOUNT, SALESFORCE_OPPORTUNITY, connect
from tests.fixtures.tryton import fresh_tryton as fresh_tryton


@dataclass
class Connected:
    admin: Member
    fake: FakeSalesforce
    connection_id: uuid.UUID


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSalesforce]:
    org = FakeSalesforce()
    monkeypatch.setattr(salesforce, "session_factory", org.session)
    yield org
    org.close()


@pytest.fixture
def connected(app: FastAPI, client: TestClient, fake: FakeSalesforce) -> Connected:
    admin = make_company(client, "Northwind Cloud")
    connection_id = connect(
        app,
        admin,
        "salesforce",
        {"instance_url": fake.instance_url, "access_token": fake.access_token},
        {
            "opportunity": ("Opportunity", SALESFORCE_OPPORTUNITY),
            "account": ("Account", SALESFORCE_ACCOUNT),
        },
    )
    return Connected(admin, fake, connection_id)


def set_status(app: FastAPI, connected: Connected, status: ConnectionStatus) -> None:
    """Pause the connection (record writes then queue no push) or make it active again."""
    with app.state.session_factory.begin() as session:
        connection = session.get(SyncConnection, connected.connection_id)
        assert connection is not None
        connection.status = status.value
