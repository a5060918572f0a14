"""The initial load's batch path (`coterie.sync.bulk`) against the Salesforce fake: every visible
record once, existing CRM records matched not duplicated, a crash mid-chunk resumed without a
duplicate, and nothing my company may not see ever sent."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from coterie.models.sync import SyncConnection, SyncLink, SyncMapping, SyncShadow
from coterie.sync import bulk, connections
from coterie.sync.connectors.salesforce import EXTERNAL_ID
from tests.fakes.salesforce_api import FakeSalesforce
from tests.fixtures.builders import Member, make_company
from tests.fixtures.records import create_record
from tests.fixtures.sync import SALESFORCE_OPPORTUNITY, connect, run

DEAL = {"amount": 1000, "close_date": "2030-03-31", "stage": "Qualify"}


@dataclass
class Loaded:
    admin: Member
    record_ids: list[str]


@pytest.fixture
def loaded(client: TestClient) -> Loaded:
    """A company with three deals, made before it connects its CRM (no outbox pushes)."""
    admin = make_company(client, "Northwind Cloud")
    titles = ("Acme renewal", "Globex data migration", "Initech pilot")
    ids = [create_record(client, admin, title, **DEAL) for title in titles]
    return Loaded(admin, ids)


def _connect(app: FastAPI, admin: Member, fake: FakeSalesforce) -> uuid.UUID:
    return connect(
        app,
        admin,
        "salesforce",
        {"instance_url": fake.instance_url, "access_token": fake.access_token},
        {"opportunity": ("Opportunity", SALESFORCE_OPPORTUNITY)},
    )


def _links(app: FastAPI, connection_id: uuid.UUID) -> list[SyncLink]:
    with app.state.session_factory() as session:
        return list(
            session.scalars(select(SyncLink).where(SyncLink.connection_id == connection_id))
        )


def _push_only(app: FastAPI, connection_id: uuid.UUID) -> bulk.Counts:
    """The batch path alone, without the run's pull before it."""
    factory = app.state.session_factory
    with factory() as session:
        connection = session.get(SyncConnection, connection_id)
        assert connection is not None
        mapping = session.scalar(
            select(SyncMapping).where(SyncMapping.connection_id == connection_id)
        )
        assert mapping is not None
        mapping_id = mapping.id
        connector = connections.build_connector(app.state.settings, connection)
    try:
        return bulk.push_unlinked(
            factory, connection_id, mapping_id, "opportunity", connector, time.monotonic() + 60
        )
    finally:
        connector.close()


def test_the_initial_load_sends_each_visible_record_once_in_batches(
    app: FastAPI, loaded: Loaded, fake: FakeSalesforce
) -> None:
    connection_id = _connect(app, loaded.admin, fake)
    summary = run(app, connection_id)
    assert (summary.created_remote, summary.pushed, summary.error) == (3, 3, None)
    assert fake.calls["collections.upsert"] == 1
    assert fake.calls["upsert"] == 0  # no record went one by one
    deals = fake.records("Opportunity")
    assert sorted(str(d[EXTERNAL_ID]) for d in deals) == sorted(loaded.record_ids)
    links = _links(app, connection_id)
    assert {str(link.record_id) for link in links} == set(loaded.record_ids)
    assert all(link.remote_id and link.remote_version for link in links)
    assert all(link.lease_until is None for link in links)
    with app.state.session_factory() as session:
        shadows = session.scalar(select(func.count()).select_from(SyncShadow))
    assert shadows == 3 * 4  # title, amount, close date, stage (no description, no account)
    writes = fake.org.record_writes
    again = run(app, connection_id)
    assert (again.pushed, again.pulled, again.conflicts) == (0, 0, 0)
    assert fake.org.record_writes == writes  # our own writes came back as echoes
    assert len(fake.records("Opportunity")) == 3


def test_crm_records_that_are_these_deals_are_linked_not_duplicated(
    app: FastAPI, loaded: Loaded, fake: FakeSalesforce
) -> None:
    carrying_our_id = fake.org.create(
        "Opportunity",
        Name="Old name",
        StageName="Qualification",
        CloseDate="2030-01-31",
        **{EXTERNAL_ID: loaded.record_ids[0]},
    )
    same_name = fake.org.create(
        "Opportunity",
        Name="Globex Data Migration",
        StageName="Qualification",
        CloseDate="2030-01-31",
    )
    connection_id = _connect(app, loaded.admin, fake)
    counts = _push_only(app, connection_id)
    assert counts.created_remote == 1
    assert len(fake.records("Opportunity")) == 3
    by_record = {str(link.record_id): link.remote_id for link in _links(app, connection_id)}
    assert by_record[loaded.record_ids[0]] == carrying_our_id
    assert by_record[loaded.record_ids[1]] == same_name
    assert fake.record(same_name)[EXTERNAL_ID] == loaded.record_ids[1]


def test_a_failure_after_the_crm_committed_a_chunk_is_resumed_without_duplicates(
    app: FastAPI, loaded: Loaded, fake: FakeSalesforce
) -> None:
    connection_id = _connect(app, loaded.admin, fake)
    fake.fail_after_commit(1)
    failed = run(app, connection_id)
    assert failed.error is not None
    assert "Salesforce" in failed.error
    assert len(fake.records("Opportunity")) == 3  # the chunk did commit
    links = _links(app, connection_id)
    assert len(links) == 3  # the links came first
    assert all(link.remote_id is None and link.lease_until is None for link in links)
    resumed = run(app, connection_id)
    assert resumed.error is None
    assert resumed.created_remote == 0
    deals = fake.records("Opportunity")
    assert sorted(str(d[EXTERNAL_ID]) for d in deals) == sorted(loaded.record_ids)
    by_remote = {d["Id"]: str(d[EXTERNAL_ID]) for d in deals}
    assert {link.remote_id: str(link.record_id) for link in _links(app, connection_id)} == (
        by_remote
    )


def test_a_failure_while_the_next_chunk_is_read_stops_the_load_cleanly(
    app: FastAPI, loaded: Loaded, fake: FakeSalesforce, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks of one record: the second chunk's upsert fails after the CRM committed it, while
    the third chunk is read. The first chunk is saved, the second is left for the next run
    (released), the third was never written anywhere; the next run finishes without a
    duplicate."""
    monkeypatch.setattr(bulk, "CHUNK", 1)
    connection_id = _connect(app, loaded.admin, fake)
    fake.fail_after_commit(1, after=1)
    failed = run(app, connection_id)
    assert failed.error is not None
    assert fake.calls["collections.upsert"] == 2  # the third chunk was never sent
    assert len(fake.records("Opportunity")) == 2
    links = {str(link.record_id): link for link in _links(app, connection_id)}
    first, second, third = sorted(loaded.record_ids)
    assert third not in links
    assert links[first].remote_id is not None
    assert links[first].remote_version is not None
    assert links[second].remote_id is None  # its upsert's answer never came
    assert all(link.lease_until is None for link in links.values())
    with app.state.session_factory() as session:
        shadowed = set(session.scalars(select(SyncShadow.link_id).distinct()))
    assert shadowed == {links[first].id}
    resumed = run(app, connection_id)
    assert resumed.error is None
    deals = fake.records("Opportunity")
    assert sorted(str(d[EXTERNAL_ID]) for d in deals) == sorted(loaded.record_ids)
    by_remote = {d["Id"]: str(d[EXTERNAL_ID]) for d in deals}
    assert {link.remote_id: str(link.record_id) for link in _links(app, connection_id)} == (
        by_remote
    )


def test_a_chunk_a_worker_is_still_writing_is_left_to_it(
    app: FastAPI, loaded: Loaded, fake: FakeSalesforce
) -> None:
    """A process killed mid-chunk leaves leased links: not touched until the lease lapses."""
    connection_id = _connect(app, loaded.admin, fake)
    fake.drop_connection(1, after_commit=True)
    run(app, connection_id)
    assert len(fake.records("Opportunity")) == 3
    with app.state.session_factory.begin() as session:
        for link in session.scalars(select(SyncLink)):
            link.lease_until = link.created_at.replace(year=link.created_at.year + 1)
    counts = _push_only(app, connection_id)
    assert (counts.pushed, counts.created_remote) == (0, 0)
    assert all(link.remote_id is None for link in _links(app, connection_id))
    assert len(fake.records("Opportunity")) == 3


def test_a_record_my_company_may_not_see_is_never_sent(
    app: FastAPI, client: TestClient, loaded: Loaded, fake: FakeSalesforce
) -> None:
    other = make_company(client, "Contoso Partners")
    create_record(client, other, "Contoso private renewal", **DEAL)
    connection_id = _connect(app, loaded.admin, fake)
    summary = run(app, connection_id)
    assert summary.created_remote == 3
    names = {str(d["Name"]) for d in fake.records("Opportunity")}
    assert "Contoso private renewal" not in names
    assert len(names) == 3
