"""Coterie and a real Tryton 8.2 kept in step, the issue's "done when": a deal edited in
Tryton shows up in my space and in my partner's view of what I share with it, while private
values stay home; both-sides edits; a delete in Tryton; a worker killed with `kill -9` between
Tryton's commit and our link."""

from __future__ import annotations

import signal
import subprocess
import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import time_machine
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from coterie.db import utcnow
from coterie.models.sync import LinkState, SyncConflict, SyncLink, SyncMapping
from tests.fixtures.builders import Member, make_company, make_partnership
from tests.fixtures.holding_proxy import HoldingProxy
from tests.fixtures.live_server import COTERIE
from tests.fixtures.records import OPPS, fill_space, put_template, share_record
from tests.fixtures.sync import TRYTON_OPPORTUNITY, connect, run
from tests.fixtures.tryton_peer import TrytonServer, TrytonUser
from tests.fixtures.worker import env_of

pytestmark = pytest.mark.slow
CLOSE = "2030-03-31"
MAPPING = {"opportunity": ("sale.opportunity", TRYTON_OPPORTUNITY)}


@pytest.fixture
def tryton(fresh_tryton: TrytonServer) -> TrytonServer:
    return fresh_tryton


@pytest.fixture
def person(tryton: TrytonServer) -> Iterator[TrytonUser]:
    user = TrytonUser(tryton)
    yield user
    user.close()


def _deal(client: TestClient, who: Member, **fields: Any) -> str:
    response = client.post(
        OPPS,
        json={"title": "Umbrella data platform", "customer_name": "Umbrella Research",
              "fields": {"amount": 1000, "currency": "USD", "close_date": CLOSE, **fields}},
        headers=who.headers,
    )  # fmt: skip
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _space(client: TestClient, who: Member, record_id: str, company: str) -> dict[str, Any]:
    body = client.get(f"{OPPS}/{record_id}", headers=who.headers).json()
    return next(s for s in body["spaces"] if s["company_id"] == company)["fields"]


def _in_tryton(person: TrytonUser, record_id: str) -> list[dict[str, Any]]:
    return person.search_opportunities([("reference", "=", record_id)])


def test_a_deal_edited_in_tryton_reaches_my_space_and_my_partner_s_view_not_my_secrets(
    app: FastAPI, client: TestClient, tryton: TrytonServer, person: TrytonUser
) -> None:
    me, partner = make_company(client, "Northwind"), make_company(client, "Bosk Systems")
    make_partnership(client, me, partner)
    put_template(
        client,
        me,
        {"key": "amount", "visibility": "participants"},
        {"key": "currency", "visibility": "participants"},
        {"key": "margin_note", "label": "Margin note", "type": "text"},  # private
    )
    record_id = _deal(client, me, margin_note="floor 18%")
    share_record(client, me, record_id, partner)
    connection = connect(app, me, "tryton", tryton.credentials(), MAPPING)
    summary = run(app, connection)
    assert summary.created_remote == 1
    [row] = _in_tryton(person, record_id)
    assert row["description"] == "Umbrella data platform"
    assert row["amount"] == Decimal("1000.00")

    person.write_opportunity(row["id"], amount=Decimal("2500.00"))
    summary = run(app, connection)
    assert summary.pulled == 1
    mine = _space(client, me, record_id, me.company_id)
    assert Decimal(str(mine["amount"]["value"])) == Decimal("2500")
    seen_by_partner = _space(client, partner, record_id, me.company_id)
    assert Decimal(str(seen_by_partner["amount"]["value"])) == Decimal("2500")
    assert "margin_note" not in seen_by_partner  # private values stay home

    fill_space(client, me, record_id, close_date="2030-06-30")  # and the other way
    [row] = _in_tryton(person, record_id)
    assert str(row["end_date"]) == "2030-06-30"
    assert len(person.search_opportunities([])) == 1  # duplicates: 0


def test_both_sides_edit_different_fields_then_the_same_field_with_tryton_owning_it(
    app: FastAPI, client: TestClient, tryton: TrytonServer, person: TrytonUser
) -> None:
    me = make_company(client, "Northwind")
    record_id = _deal(client, me)
    fields = [
        {**f, "owner": "crm"} if f["local"] == "space.amount" else f for f in TRYTON_OPPORTUNITY
    ]
    connection = connect(
        app, me, "tryton", tryton.credentials(), {"opportunity": ("sale.opportunity", fields)}
    )
    run(app, connection)
    [row] = _in_tryton(person, record_id)

    with app.state.session_factory.begin() as session:  # queue nothing while both sides edit
        session.execute(select(SyncMapping)).scalars().one().enabled = False
    person.write_opportunity(row["id"], amount=Decimal("3000.00"))
    fill_space(client, me, record_id, close_date="2030-09-30", amount=4000)
    with app.state.session_factory.begin() as session:
        session.execute(select(SyncMapping)).scalars().one().enabled = True
    run(app, connection)
    mine = _space(client, me, record_id, me.company_id)
    assert Decimal(str(mine["amount"]["value"])) == Decimal("3000")  # Tryton owns the amount
    [row] = _in_tryton(person, record_id)
    assert str(row["end_date"]) == "2030-09-30"  # Coterie's other edit kept
    assert row["amount"] == Decimal("3000.00")
    with app.state.session_factory() as session:
        conflict = session.scalars(select(SyncConflict)).one()
    assert (conflict.field, conflict.coterie_value, conflict.crm_value) == (
        "space.amount", "4000", "3000",
    )  # fmt: skip
    assert conflict.winner == "crm"


def test_a_delete_in_tryton_unlinks_the_deal_which_stays_in_coterie(
    app: FastAPI, client: TestClient, tryton: TrytonServer, person: TrytonUser
) -> None:
    me = make_company(client, "Northwind")
    record_id = _deal(client, me)
    connection = connect(app, me, "tryton", tryton.credentials(), MAPPING)
    run(app, connection)
    [row] = _in_tryton(person, record_id)
    person.delete_opportunity(row["id"])
    run(app, connection)
    with app.state.session_factory() as session:  # Tryton reports no deletes: runs ask for
        assert session.scalars(select(SyncLink)).one().state == LinkState.LINKED.value
    with time_machine.travel(utcnow() + timedelta(minutes=61), tick=True):
        run(app, connection)  # the linked records, once an hour: the missing one is gone
    with app.state.session_factory() as session:
        link = session.scalars(select(SyncLink)).one()
    assert link.state == LinkState.UNLINKED.value
    assert client.get(f"{OPPS}/{record_id}", headers=me.headers).status_code == 200
    run(app, connection)
    assert _in_tryton(person, record_id) == []  # not re-created


def test_kill_9_between_tryton_s_commit_and_our_link_leaves_no_duplicate(
    app: FastAPI, client: TestClient, tryton: TrytonServer, person: TrytonUser, tmp_path: Path
) -> None:
    me = make_company(client, "Northwind")
    record_id = _deal(client, me)
    upstream = urlparse(tryton.url)
    proxy = HoldingProxy(
        upstream.hostname or "127.0.0.1", upstream.port or 80, b"sale.opportunity.create"
    )
    try:
        connection = connect(app, me, "tryton", tryton.credentials(url=proxy.url), MAPPING)
        log = (tmp_path / "sync.log").open("w")
        worker = subprocess.Popen(
            [str(COTERIE), "sync", "run", "--connection", str(connection)],
            env=env_of(app.state.settings),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        assert proxy.held.wait(90), (tmp_path / "sync.log").read_text()
        worker.send_signal(signal.SIGKILL)  # Tryton committed; we never heard
        worker.wait()
        assert len(_in_tryton(person, record_id)) == 1
        with app.state.session_factory() as session:
            link = session.scalars(select(SyncLink)).one()
        assert link.record_id == uuid.UUID(record_id)
        assert link.remote_id is None  # the link knew nothing of Tryton's id

        proxy.holding = False
        with time_machine.travel(utcnow() + timedelta(minutes=11), tick=True):
            run(app, connection)  # the next run, once the dead one's leases are over
        [found] = _in_tryton(person, record_id)  # duplicates: 0
        with app.state.session_factory() as session:
            link = session.scalars(select(SyncLink)).one()
        assert link.remote_id == str(found["id"])
        assert link.state == LinkState.LINKED.value
    finally:
        proxy.stop()
