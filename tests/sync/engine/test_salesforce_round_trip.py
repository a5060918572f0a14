"""Coterie and a Salesforce org kept in step: create, edit either side, both sides, echoes."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from coterie.models.sync import SyncConflict, SyncLink
from tests.fixtures.records import OPPS, create_record, fill_space
from tests.fixtures.sync import run
from tests.sync.engine.conftest import Connected


def _opportunities(connected: Connected) -> list[dict[str, object]]:
    return connected.fake.records("Opportunity")


def _deal(
    client: TestClient, connected: Connected, amount: int = 1000
) -> tuple[str, dict[str, object]]:
    """Acme renewal created in Coterie, and the Salesforce opportunity the push made of it."""
    record_id = create_record(
        client,
        connected.admin,
        "Acme renewal",
        amount=amount,
        close_date="2030-03-31",
        stage="Qualify",
    )
    [deal] = _opportunities(connected)
    return record_id, deal


def _my_fields(client: TestClient, connected: Connected, record_id: str) -> dict[str, object]:
    body = client.get(f"{OPPS}/{record_id}", headers=connected.admin.headers).json()
    return next(s for s in body["spaces"] if s["is_mine"])["fields"]


def test_a_deal_created_in_coterie_appears_once_in_salesforce(
    app: FastAPI, client: TestClient, connected: Connected
) -> None:
    record_id, deal = _deal(client, connected, amount=120000)
    assert deal["Name"] == "Acme renewal"
    assert deal["Coterie_Id__c"] == record_id
    assert float(deal["Amount"]) == 120000  # type: ignore[arg-type]
    assert deal["StageName"] == "Qualification"
    assert str(deal["CloseDate"]) == "2030-03-31"
    summary = run(app, connected.connection_id)  # the run sees its own write come back
    assert (summary.pulled, summary.pushed, summary.conflicts) == (0, 0, 0)
    assert len(_opportunities(connected)) == 1


def test_an_edit_in_salesforce_reaches_my_space(
    app: FastAPI, client: TestClient, connected: Connected
) -> None:
    record_id, deal = _deal(client, connected)
    connected.fake.org.ui_edit(
        "Opportunity", str(deal["Id"]), Amount=2500, StageName="Proposal/Price Quote"
    )
    summary = run(app, connected.connection_id)
    assert summary.pulled == 1
    fields = _my_fields(client, connected, record_id)
    assert fields["stage"] == "Propose"
    assert str(
        fields["amount"]["value"] if isinstance(fields["amount"], dict) else fields["amount"]
    ).startswith("2500")
    writes = connected.fake.org.record_writes
    run(app, connected.connection_id)
    assert connected.fake.org.record_writes == writes  # nothing bounced back


def test_both_sides_edit_different_fields_and_both_are_kept(
    app: FastAPI, client: TestClient, connected: Connected, engine: object
) -> None:
    record_id, deal = _deal(client, connected)
    connected.fake.org.ui_edit("Opportunity", str(deal["Id"]), Amount=3000)
    fill_space(client, connected.admin, record_id, close_date="2030-06-30")
    run(app, connected.connection_id)
    fields = _my_fields(client, connected, record_id)
    assert fields["close_date"] == "2030-06-30"
    [deal] = _opportunities(connected)
    assert str(deal["CloseDate"]) == "2030-06-30"
    assert float(deal["Amount"]) == 3000  # type: ignore[arg-type]


def test_both_sides_edit_the_same_field_the_owner_wins_and_the_loser_is_kept(
    app: FastAPI, client: TestClient, connected: Connected
) -> None:
    record_id, deal = _deal(client, connected)
    # the CRM edit lands while Coterie's edit is on its way: the push meets a changed record
    connected.fake.clock.advance(5)
    connected.fake.org.ui_edit("Opportunity", str(deal["Id"]), Amount=4000)
    fill_space(client, connected.admin, record_id, amount=5000)
    [deal] = _opportunities(connected)
    assert float(deal["Amount"]) == 5000  # type: ignore[arg-type]  (Coterie owns the field)
    with app.state.session_factory() as session:
        conflict = session.scalars(select(SyncConflict)).one()
        assert (conflict.field, conflict.crm_value, conflict.coterie_value) == (
            "space.amount",
            "4000",
            "5000",
        )
        assert conflict.winner == "coterie"
        assert session.scalar(select(func.count()).select_from(SyncLink)) == 1
