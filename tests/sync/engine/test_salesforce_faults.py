"""The fault suite against the Salesforce fake: what a CRM does to a sync, and what the sync
must do about it. Figures asserted: duplicates 0, lost edits 0, loop rounds bounded."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from coterie.models.outbox import DEAD, PENDING, SENT
from coterie.models.sync import ConnectionStatus, LinkState, SyncConnection, SyncLink
from coterie.sync import push
from tests.fixtures.records import OPPS, create_record, fill_space
from tests.fixtures.sync import deliver_later, outbox_rows, run
from tests.sync.engine.conftest import Connected, set_status

DEAL = {"amount": 1000, "close_date": "2030-03-31", "stage": "Qualify"}


def _create(client: TestClient, connected: Connected, title: str, description: str) -> str:
    response = client.post(
        OPPS,
        json={"title": title, "description": description, "fields": DEAL},
        headers=connected.admin.headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _deal(connected: Connected) -> dict[str, object]:
    [deal] = connected.fake.records("Opportunity")
    return deal


def _record(client: TestClient, connected: Connected, record_id: str) -> dict[str, object]:
    response = client.get(f"{OPPS}/{record_id}", headers=connected.admin.headers)
    assert response.status_code == 200
    return dict(response.json())


def _link(app: FastAPI, record_id: str) -> SyncLink:
    with app.state.session_factory() as session:
        link = session.scalar(select(SyncLink).where(SyncLink.record_id == uuid.UUID(record_id)))
        assert link is not None
        return link


def _connection(app: FastAPI, connected: Connected) -> SyncConnection:
    with app.state.session_factory() as session:
        connection = session.get(SyncConnection, connected.connection_id)
        assert connection is not None
        return connection


def test_a_crm_automation_is_a_real_change_and_the_sync_does_not_loop_with_it(
    app: FastAPI, client: TestClient, connected: Connected
) -> None:
    org = connected.fake.org
    org.automation("Opportunity", "Description", lambda v: f"Owner review: {v.get('Name')}")
    record_id = create_record(client, connected.admin, "Acme renewal", **DEAL)
    assert _deal(connected)["Description"] == "Owner review: Acme renewal"
    first = run(app, connected.connection_id)
    assert first.pulled == 1  # not mistaken for the echo of our write
    assert _record(client, connected, record_id)["description"] == "Owner review: Acme renewal"
    writes = dict(org.record_writes)
    for _ in range(3):
        again = run(app, connected.connection_id)
        assert (again.pulled, again.pushed, again.conflicts) == (0, 0, 0)
    assert dict(org.record_writes) == writes  # the loop is closed: no more writes either side
    assert len(connected.fake.records("Opportunity")) == 1


def test_an_into_the_crm_field_rewritten_by_an_automation_is_not_pushed_back_forever(
    app: FastAPI, client: TestClient, connected: Connected
) -> None:
    with app.state.session_factory.begin() as session:
        connection = session.get(SyncConnection, connected.connection_id)
        assert connection is not None
        for mapping in session.scalars(
            select(push.connections.SyncMapping).where(
                push.connections.SyncMapping.connection_id == connection.id,
                push.connections.SyncMapping.kind == "opportunity",
            )
        ):
            fields = [f for f in mapping.fields if f["local"] != "record.description"]
            mapping.fields = [
                *fields,
                {"local": "record.description", "remote": "Description", "direction": "out"},
            ]
    org = connected.fake.org
    org.automation("Opportunity", "Description", lambda v: "standardised by the CRM")
    record_id = _create(client, connected, "Acme renewal", "Ours")
    for _ in range(3):
        run(app, connected.connection_id)
    assert _record(client, connected, record_id)["description"] == "Ours"
    assert org.record_writes["api"] == 1  # one push; the rewrite is accepted, not fought


def test_a_5xx_after_the_crm_committed_is_retried_without_a_duplicate(
    app: FastAPI, client: TestClient, connected: Connected
) -> None:
    connected.fake.fail_after_commit(1)
    record_id = create_record(client, connected.admin, "Acme renewal", **DEAL)
    [row] = outbox_rows(app)
    assert row.status == PENDING
    assert "TransientError" in (row.last_error or "")
    assert len(connected.fake.records("Opportunity")) == 1  # it did commit
    assert deliver_later(app, timedelta(minutes=5)) == 1
    [row] = outbox_rows(app)
    assert row.status == SENT
    [deal] = connected.fake.records("Opportunity")
    assert deal["Coterie_Id__c"] == record_id
    link = _link(app, record_id)
    assert link.remote_id == deal["Id"]


def test_a_429_pauses_the_connection_until_retry_after_then_the_push_goes_through(
    app: FastAPI, client: TestClient, connected: Connected
) -> None:
    connected.fake.throttle(1, retry_after=120)
    create_record(client, connected.admin, "Acme renewal", **DEAL)
    assert connected.fake.records("Opportunity") == []
    connection = _connection(app, connected)
    [row] = outbox_rows(app)
    assert connection.paused_until is not None
    assert row.next_attempt_at == connection.paused_until  # not before the CRM said
    assert deliver_later(app, timedelta(seconds=60)) == 0  # still paused: nothing is due
    assert deliver_later(app, timedelta(seconds=125)) == 1
    assert len(connected.fake.records("Opportunity")) == 1


def test_a_spent_daily_budget_pauses_until_the_next_day(
    app: FastAPI, client: TestClient, connected: Connected
) -> None:
    connected.fake.budget(used=15000, limit=15000)
    create_record(client, connected.admin, "Acme renewal", **DEAL)
    connection = _connection(app, connected)
    [row] = outbox_rows(app)
    assert connection.paused_until is not None
    assert row.created_at is not None
    assert connection.paused_until.date() > row.created_at.date()
    assert "REQUEST_LIMIT_EXCEEDED" in (connection.last_error or "")


def test_expired_credentials_put_the_connection_in_error_until_an_admin_reconnects(
    app: FastAPI, client: TestClient, connected: Connected
) -> None:
    connected.fake.expire_session()
    summary = run(app, connected.connection_id)
    assert summary.error is not None
    assert "Reconnect" in summary.error
    assert _connection(app, connected).status == ConnectionStatus.ERROR.value
    create_record(client, connected.admin, "Acme renewal", **DEAL)
    assert outbox_rows(app) == []  # a connection in error queues nothing new


def test_a_mapped_field_removed_from_the_crm_kills_the_push_with_its_reason(
    app: FastAPI, client: TestClient, connected: Connected
) -> None:
    connected.fake.org.remove_field("Opportunity", "Description")
    _create(client, connected, "Acme renewal", "Details")
    [row] = outbox_rows(app)
    assert row.status == DEAD
    assert "Description" in (row.last_error or "")


def test_a_delete_in_the_crm_archives_the_link_and_a_restore_relinks_it(
    app: FastAPI, client: TestClient, connected: Connected
) -> None:
    with app.state.session_factory.begin() as session:
        for mapping in session.scalars(select(push.connections.SyncMapping)):
            mapping.on_crm_delete = "archive"
    record_id = create_record(client, connected.admin, "Acme renewal", **DEAL)
    deal_id = str(_deal(connected)["Id"])
    connected.fake.clock.advance(5)
    connected.fake.org.delete(deal_id)
    run(app, connected.connection_id)
    link = _link(app, record_id)
    assert link.state == LinkState.TOMBSTONED.value
    assert _record(client, connected, record_id)["title"] == "Acme renewal"  # still in Coterie
    fill_space(client, connected.admin, record_id, amount=2000)  # not pushed to a deleted record
    connected.fake.clock.advance(5)
    connected.fake.org.undelete(deal_id)
    run(app, connected.connection_id)
    link = _link(app, record_id)
    assert link.state == LinkState.LINKED.value
    assert link.remote_id == deal_id
    assert len(connected.fake.records("Opportunity")) == 1


def test_a_delete_in_the_crm_unlinks_by_default_the_record_stays_and_is_not_recreated(
    app: FastAPI, client: TestClient, connected: Connected
) -> None:
    record_id = create_record(client, connected.admin, "Acme renewal", **DEAL)
    connected.fake.clock.advance(5)
    connected.fake.org.delete(str(_deal(connected)["Id"]))
    run(app, connected.connection_id)
    link = _link(app, record_id)
    assert link.state == LinkState.UNLINKED.value
    assert _record(client, connected, record_id)["title"] == "Acme renewal"
    fill_space(client, connected.admin, record_id, amount=2000)
    run(app, connected.connection_id)
    assert connected.fake.records("Opportunity") == []  # never re-created in the CRM


def test_two_workers_pushing_the_same_new_record_make_one_crm_record_and_one_link(
    app: FastAPI, client: TestClient, connected: Connected
) -> None:
    set_status(app, connected, ConnectionStatus.PAUSED)  # queue nothing while we create
    record_id = create_record(client, connected.admin, "Acme renewal", **DEAL)
    set_status(app, connected, ConnectionStatus.ACTIVE)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        barrier.wait()
        try:
            outcomes.append(
                push.deliver(
                    app.state.session_factory,
                    app.state.settings,
                    connected.connection_id,
                    "opportunity",
                    uuid.UUID(record_id),
                )
            )
        except push.RetryLaterError as exc:
            outcomes.append(f"later: {exc}")

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 2
    assert len(connected.fake.records("Opportunity")) == 1
    with app.state.session_factory() as session:
        links = list(session.scalars(select(SyncLink)))
    assert len(links) == 1
    assert links[0].remote_id == _deal(connected)["Id"]


def test_an_opportunity_s_account_is_pushed_before_it(
    app: FastAPI, client: TestClient, connected: Connected
) -> None:
    account = client.post(
        "/api/v1/accounts",
        json={"title": "Acme Corp", "customer_domain": "acme.example"},
        headers=connected.admin.headers,
    )
    assert account.status_code == 201, account.text
    with app.state.session_factory.begin() as session:
        for link in session.scalars(select(SyncLink)):
            session.delete(link)  # as if the account was made before the connection
    response = client.post(
        OPPS,
        json={"title": "Acme renewal", "account_id": account.json()["id"], "fields": DEAL},
        headers=connected.admin.headers,
    )
    assert response.status_code == 201, response.text
    [crm_account] = connected.fake.records("Account")
    assert crm_account["Name"] == "Acme Corp"
    assert _deal(connected)["AccountId"] == crm_account["Id"]


def test_the_connection_s_own_daily_budget_stops_the_run_and_waits_for_the_next_day(
    app: FastAPI, client: TestClient, connected: Connected
) -> None:
    url = f"/api/v1/sync/connections/{connected.connection_id}"
    current = client.get(url, headers=connected.admin.headers)
    paused = client.patch(
        url,
        json={"paused": True},
        headers={**connected.admin.headers, "If-Match": current.headers["ETag"]},
    )
    assert paused.status_code == 200, paused.text
    for n in range(6):
        create_record(client, connected.admin, f"Budget deal {n}", **DEAL)
    budget = connected.fake.api_used + 1  # the run's first read spends it
    resumed = client.patch(
        url,
        json={"paused": False, "daily_budget": budget},
        headers={**connected.admin.headers, "If-Match": paused.headers["ETag"]},
    )
    assert resumed.status_code == 200, resumed.text  # resuming runs it at once
    connection = _connection(app, connected)
    assert connection.daily_budget == budget
    assert "daily budget" in (connection.last_error or "")
    assert connection.paused_until is not None
    assert connected.fake.records("Opportunity") == []  # it stopped before writing
    assert connected.fake.api_used <= budget + 1  # the call that found it spent, and no more
    assert connection.budget_used == connected.fake.api_used  # as the CRM counted it last
