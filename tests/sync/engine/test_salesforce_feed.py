"""The CRM-to-Coterie side against the Salesforce fake: the initial load's match-or-create,
the change feed's traps (equal timestamps across pages, late commits, clock skew), webhooks,
no permission versus deleted, and merged records."""

from __future__ import annotations

import uuid

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from coterie.db import session_scope
from coterie.models.sync import ConnectionStatus, LinkState, SyncConflict, SyncConnection, SyncLink
from coterie.sync import runs, secrets
from coterie.sync.service import WEBHOOK_SECRET
from tests.fakes.salesforce_api import signed_webhook
from tests.fixtures.records import OPPS, create_record
from tests.fixtures.sync import run
from tests.sync.engine.conftest import Connected, set_status

DEAL = {"amount": 1000, "close_date": "2030-03-31", "stage": "Qualify"}
SF_DEAL = {"StageName": "Prospecting", "CloseDate": "2030-03-31", "Amount": 500}


def _titles(client: TestClient, connected: Connected) -> list[str]:
    body = client.get(f"{OPPS}?limit=100", headers=connected.admin.headers).json()
    return sorted(item["title"] for item in body["items"])


def _links(app: FastAPI) -> list[SyncLink]:
    with app.state.session_factory() as session:
        return list(session.scalars(select(SyncLink).order_by(SyncLink.created_at)))


def test_the_initial_load_links_the_same_deal_creates_the_missing_ones_on_each_side(
    app: FastAPI, client: TestClient, connected: Connected
) -> None:
    set_status(app, connected, ConnectionStatus.PAUSED)  # as if connected after the records
    create_record(client, connected.admin, "Initech renewal", **DEAL)
    create_record(client, connected.admin, "Hooli pilot", **DEAL)
    org = connected.fake.org
    org.create("Opportunity", Name="Initech Renewal", **SF_DEAL)  # the same deal, typed there
    org.create("Opportunity", Name="Soylent rollout", **SF_DEAL)  # only in the CRM
    set_status(app, connected, ConnectionStatus.ACTIVE)
    summary = run(app, connected.connection_id)
    assert (summary.created_local, summary.created_remote) == (1, 1)
    assert _titles(client, connected) == ["Hooli pilot", "Initech renewal", "Soylent rollout"]
    names = sorted(str(r["Name"]) for r in connected.fake.records("Opportunity"))
    assert names == ["Hooli pilot", "Initech renewal", "Soylent rollout"]  # duplicates: 0
    with app.state.session_factory() as session:  # the deal typed twice differed: Coterie won
        conflicts = {
            c.field: (c.coterie_value, c.crm_value) for c in session.scalars(select(SyncConflict))
        }
    assert conflicts["record.title"] == ("Initech renewal", "Initech Renewal")
    assert all(link.state == LinkState.LINKED.value for link in _links(app))
    again = run(app, connected.connection_id)
    assert (again.created_local, again.created_remote, again.pulled, again.pushed) == (0, 0, 0, 0)


def test_an_ambiguous_match_waits_for_a_person(
    app: FastAPI, client: TestClient, connected: Connected
) -> None:
    set_status(app, connected, ConnectionStatus.PAUSED)
    create_record(client, connected.admin, "Globex expansion EMEA", **DEAL)
    create_record(client, connected.admin, "Globex expansion APAC", **DEAL)
    connected.fake.org.create("Opportunity", Name="Globex expansion", **SF_DEAL)
    set_status(app, connected, ConnectionStatus.ACTIVE)
    summary = run(app, connected.connection_id)
    assert summary.waiting >= 1
    waiting = [link for link in _links(app) if link.state == LinkState.CANDIDATE.value]
    assert len(waiting) == 1
    assert waiting[0].record_id is None
    assert len(waiting[0].candidates) == 2  # both Coterie deals, for a person to choose
    assert "Globex expansion" not in _titles(client, connected)  # nothing guessed, nothing made


def test_equal_timestamps_across_a_page_boundary_are_all_taken(
    app: FastAPI, client: TestClient, connected: Connected, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runs, "PAGE", 2)
    org = connected.fake.org  # the fake's clock does not tick: every stamp is the same
    names = ["Acme", "Globex", "Hooli", "Initech", "Soylent", "Umbrella", "Vandelay"]
    for name in names:
        org.create("Opportunity", Name=f"{name} platform", **SF_DEAL)
    run(app, connected.connection_id)
    assert _titles(client, connected) == [f"{name} platform" for name in names]


def test_a_late_commit_and_a_skewed_clock_are_caught_by_the_overlap_window(
    app: FastAPI, client: TestClient, connected: Connected
) -> None:
    org, clock = connected.fake.org, connected.fake.clock
    org.create("Opportunity", Name="Early deal", **SF_DEAL)
    clock.advance(10)
    org.late_commit("Opportunity", {"Name": "Long transaction deal", **SF_DEAL}, 30)
    clock.advance(5)
    org.create("Opportunity", Name="Visible deal", **SF_DEAL)
    run(app, connected.connection_id)  # the cursor passes the late one's stamp, unseen
    assert "Long transaction deal" not in _titles(client, connected)
    clock.advance(40)
    run(app, connected.connection_id)  # visible now, stamped before the cursor: the overlap
    assert "Long transaction deal" in _titles(client, connected)
    connected.fake.skew(-60)  # the org's servers now stamp a minute in the past
    org.create("Opportunity", Name="Skewed deal", **SF_DEAL)
    run(app, connected.connection_id)
    titles = _titles(client, connected)
    assert "Skewed deal" in titles
    assert len(titles) == 4  # the re-read overlap creates nothing twice


def test_webhook_events_duplicated_out_of_order_or_forged(
    app: FastAPI, client: TestClient, connected: Connected
) -> None:
    org, clock = connected.fake.org, connected.fake.clock
    deal = org.create("Opportunity", Name="Pushed deal", **SF_DEAL)
    run(app, connected.connection_id)
    with session_scope(app.state.session_factory) as session:
        connection = session.get(SyncConnection, connected.connection_id)
        assert connection is not None
        secret = secrets.unseal(app.state.settings, connection.webhook_secret or "")[WEBHOOK_SECRET]
    clock.advance(30)
    org.ui_edit("Opportunity", deal, Amount=900)
    clock.advance(1)
    org.ui_edit("Opportunity", deal, Amount=950)
    url = f"/api/v1/sync/webhooks/{connected.connection_id}"
    newer = {"event_id": "evt-2", "object": "Opportunity", "record_id": deal,
             "occurred_at": clock.now().isoformat(), "deleted": False}  # fmt: skip
    older = {**newer, "event_id": "evt-1"}
    for events in ([newer], [older], [newer]):  # out of order, then a duplicate
        headers, body = signed_webhook(secret, events)
        assert client.post(url, content=body, headers=headers).status_code == 202
    headers, body = signed_webhook("not-the-secret", [{**newer, "event_id": "evt-3"}])
    assert client.post(url, content=body, headers=headers).status_code == 401
    record_id = next(link.record_id for link in _links(app))
    fields = next(
        s["fields"]
        for s in client.get(f"{OPPS}/{record_id}", headers=connected.admin.headers).json()["spaces"]
        if s["is_mine"]
    )
    assert str(fields["amount"]["value"]).startswith("950")  # the CRM's state, not the events'
    with app.state.session_factory() as session:
        from coterie.models.sync import SyncInboxEvent

        kept = sorted(e.event_id for e in session.scalars(select(SyncInboxEvent)))
    assert kept == ["evt-1", "evt-2"]


def test_no_permission_is_not_a_delete(
    app: FastAPI, client: TestClient, connected: Connected
) -> None:
    record_id = create_record(client, connected.admin, "Acme renewal", **DEAL)
    [deal] = connected.fake.records("Opportunity")
    connected.fake.clock.advance(5)
    connected.fake.org.deny(str(deal["Id"]))  # the integration user loses access to it
    run(app, connected.connection_id)
    [link] = _links(app)
    assert link.state == LinkState.LINKED.value
    connected.fake.org.allow(str(deal["Id"]))
    connected.fake.clock.advance(5)
    connected.fake.org.delete(str(deal["Id"]))
    run(app, connected.connection_id)
    [link] = _links(app)
    assert link.state == LinkState.UNLINKED.value
    assert link.record_id == uuid.UUID(record_id)


def test_two_crm_accounts_merged_keep_one_link_on_the_survivor(
    app: FastAPI, client: TestClient, connected: Connected
) -> None:
    org, clock = connected.fake.org, connected.fake.clock
    survivor = org.create("Account", Name="Acme Corporation", Website="acme.example")
    loser = org.create("Account", Name="ACME Corp (old)", Website="old-acme.example")
    run(app, connected.connection_id)
    links = {link.remote_id: link for link in _links(app) if link.kind == "account"}
    assert set(links) == {survivor, loser}
    clock.advance(5)
    org.merge(survivor, loser)
    run(app, connected.connection_id)
    after = {link.remote_id: link.state for link in _links(app) if link.kind == "account"}
    assert after[survivor] == LinkState.LINKED.value
    assert after[loser] == LinkState.TOMBSTONED.value  # kept, saying where it went
    assert len(connected.fake.records("Account")) == 1
