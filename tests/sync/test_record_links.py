"""A record's links to CRM records (`coterie.sync.record_links`, /api/v1/records/{kind}/{id}/
crm-links): what the "In your CRM" panel shows, and choose, unlink, relink, push to CRM, with
the push run by the worker (at once in tests) against a CRM held in memory."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from coterie.models.sync import LinkState
from tests.fixtures.builders import Member, make_colleague, make_company, make_partnership
from tests.fixtures.records import create_record, fill_space, put_template, share_record
from tests.fixtures.smtp import Inbox
from tests.fixtures.versions import at_version
from tests.sync.inbox_builders import NEXT_STEP, crm_pushes, link_state, make_connection, make_link
from tests.sync.memory_crm import KIND, MemoryCrm

OPPS = "/api/v1/opportunities"


def _links(record_id: str) -> str:
    return f"/api/v1/records/opportunity/{record_id}/crm-links"


def _panel(client: TestClient, who: Member, record_id: str) -> list[dict[str, Any]]:
    response = client.get(_links(record_id), headers=who.headers)
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


def _act(
    client: TestClient,
    who: Member,
    record_id: str,
    link_id: uuid.UUID,
    action: str,
    version: int = 1,
    **body: Any,
) -> Any:
    return client.post(
        f"{_links(record_id)}/{link_id}/{action}",
        json=body,
        headers=at_version(who, version),
    )


def _push(client: TestClient, who: Member, record_id: str, connection: uuid.UUID) -> Any:
    return client.post(
        f"{_links(record_id)}/push", json={"connection_id": str(connection)}, headers=who.headers
    )


def _opportunity(client: TestClient, who: Member, record_id: str) -> dict[str, Any]:
    response = client.get(f"{OPPS}/{record_id}", headers=who.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _acme(client: TestClient) -> tuple[Member, str]:
    acme = make_company(client, "Acme")
    put_template(client, acme, NEXT_STEP)
    return acme, create_record(client, acme, "Initech renewal", next_step="Send the quote")


def _acme_with_crm(app: FastAPI, client: TestClient) -> tuple[Member, str, uuid.UUID]:
    """Acme's opportunity, and Acme's connection to the memory CRM mapping opportunities."""
    acme, record = _acme(client)
    return acme, record, make_connection(app, acme, kind=KIND)


def test_no_panel_without_a_crm_and_a_linked_record_shows_its_crm_record(
    app: FastAPI, client: TestClient, crm: MemoryCrm
) -> None:
    acme, record = _acme(client)
    assert _panel(client, acme, record) == []  # no connection maps opportunities
    connection = make_connection(app, acme, kind=KIND, name="Acme CRM")
    link = make_link(app, connection, record, remote_id="M7")
    [entry] = _panel(client, acme, record)
    assert (entry["crm"], entry["connection_name"]) == ("Memory CRM", "Acme CRM")
    [shown] = entry["links"]
    assert shown["id"] == str(link)
    assert (shown["state"], shown["remote_id"]) == ("linked", "M7")
    assert shown["remote_url"] == "https://crm.example/Opportunity/M7"  # from the connector


def test_push_to_crm_creates_the_record_in_the_crm_and_links_it(
    app: FastAPI, client: TestClient, crm: MemoryCrm
) -> None:
    acme, record, connection = _acme_with_crm(app, client)
    response = _push(client, acme, record, connection)
    assert response.status_code == 202, response.text
    # the worker pushed it (at once in tests): the CRM has it, carrying Coterie's values
    [created] = crm.records.values()
    assert created.values == {"NextStep": "Send the quote", "Name": "Initech renewal"}
    [shown] = _panel(client, acme, record)[0]["links"]
    assert (shown["state"], shown["remote_id"]) == ("linked", created.remote_id)
    assert shown["last_pushed_at"] is not None


def test_choosing_a_crm_candidate_links_it_and_the_push_merges_both_sides(
    app: FastAPI, client: TestClient, crm: MemoryCrm
) -> None:
    acme, record, connection = _acme_with_crm(app, client)
    crm.put("Opportunity", "M1", {"Name": "Initech renewal (EMEA)", "NextStep": "Demo"})
    crm.put("Opportunity", "M2", {"Name": "Initech renewal (US)", "NextStep": "Demo"})
    link = make_link(
        app,
        connection,
        record,
        remote_id=None,
        state=LinkState.CANDIDATE,
        candidates=[
            {"remote_id": "M1", "name": "Initech renewal (EMEA)"},
            {"remote_id": "M2", "name": "Initech renewal (US)"},
        ],
    )
    [shown] = _panel(client, acme, record)[0]["links"]
    assert [c["name"] for c in shown["candidates"]] == [
        "Initech renewal (EMEA)",
        "Initech renewal (US)",
    ]
    refused = _act(client, acme, record, link, "choose", remote_id="M9")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["path"] == "body.remote_id"

    response = _act(client, acme, record, link, "choose", remote_id="M2")
    assert response.status_code == 200, response.text
    assert link_state(app, link).state == "linked"
    # merged: Coterie owns the next step (sent to the CRM), the CRM owns the name (taken here)
    assert crm.records["M2"].values["NextStep"] == "Send the quote"
    assert _opportunity(client, acme, record)["title"] == "Initech renewal (US)"
    assert crm.records["M1"].values["NextStep"] == "Demo"  # the other one untouched
    # both sides had changed each field: the losers wait in the inbox
    conflicts = client.get("/api/v1/sync/conflicts", headers=acme.headers).json()["items"]
    assert sorted(c["field_label"] for c in conflicts) == ["Next step", "Title"]
    # a second choice on the same link is no longer offered
    assert _act(client, acme, record, link, "choose", version=2, remote_id="M1").status_code == 409


def test_a_waiting_crm_record_offers_only_records_the_viewer_may_see(
    app: FastAPI, client: TestClient, crm: MemoryCrm
) -> None:
    acme, record, connection = _acme_with_crm(app, client)
    globex = make_company(client, "Globex")
    hidden = create_record(client, globex, "Initech renewal")  # Globex's: Acme cannot see it
    crm.put("Opportunity", "M3", {"Name": "Initech renewal", "NextStep": "Demo"})
    link = make_link(
        app,
        connection,
        None,
        remote_id="M3",
        state=LinkState.CANDIDATE,
        candidates=[
            {"record_id": record, "name": "Initech renewal", "reason": "name"},
            {"record_id": hidden, "name": "Initech renewal", "reason": "name"},
        ],
    )
    [waiting] = _panel(client, acme, record)[0]["links"]
    assert (waiting["side"], waiting["remote_id"]) == ("crm", "M3")
    assert [c["record_id"] for c in waiting["candidates"]] == [record]
    # choosing the record Acme cannot see: it does not exist for Acme
    assert _act(client, acme, hidden, link, "choose").status_code == 404
    assert link_state(app, link).record_id is None
    response = _act(client, acme, record, link, "choose")
    assert response.status_code == 200, response.text
    chosen = link_state(app, link)
    assert (chosen.state, chosen.record_id) == ("linked", uuid.UUID(record))
    assert crm.records["M3"].values["NextStep"] == "Send the quote"


def test_unlink_is_sticky_until_relinked(app: FastAPI, client: TestClient, crm: MemoryCrm) -> None:
    acme, record, connection = _acme_with_crm(app, client)
    crm.put("Opportunity", "M5", {"Name": "Initech renewal", "NextStep": "Send the quote"})
    link = make_link(
        app,
        connection,
        record,
        remote_id="M5",
        shadows={
            "space.next_step": ("Send the quote", "Send the quote"),
            "record.title": ("Initech renewal", "Initech renewal"),
        },
    )
    assert _act(client, acme, record, link, "unlink", version=2).status_code == 412
    response = _act(client, acme, record, link, "unlink")
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "unlinked"

    fill_space(client, acme, record, next_step="Sign on Friday")
    assert crm_pushes(app, record) >= 1  # the edit was queued, and the worker ran it...
    assert crm.records["M5"].values["NextStep"] == "Send the quote"  # ...sending nothing
    assert crm.writes == []
    pushed = _push(client, acme, record, connection)
    assert pushed.status_code == 409
    assert _panel(client, acme, record)[0]["links"][0]["state"] == "unlinked"

    relinked = _act(client, acme, record, link, "relink", version=2)
    assert relinked.status_code == 200, relinked.text
    assert crm.records["M5"].values["NextStep"] == "Sign on Friday"


def test_another_companys_link_is_404_and_a_member_gets_403(
    app: FastAPI, client: TestClient, crm: MemoryCrm, inbox: Inbox
) -> None:
    acme, record = _acme(client)
    globex = make_company(client, "Globex")
    make_partnership(client, acme, globex)
    share_record(client, acme, record, globex)  # Globex sees the record, not Acme's CRM
    connection = make_connection(app, acme, kind=KIND)
    link = make_link(app, connection, record, remote_id="M6")
    assert _panel(client, globex, record) == []
    assert _act(client, globex, record, link, "unlink").status_code == 404
    assert _push(client, globex, record, connection).status_code == 404
    member = make_colleague(client, acme, "member", inbox=inbox)
    assert _act(client, member, record, link, "unlink").status_code == 403
    pushed = _push(client, member, record, connection)
    assert pushed.status_code == 403
    assert link_state(app, link).state == "linked"
    # a record nobody of Acme may see: 404, whatever the link
    theirs = create_record(client, globex, "Globex only")
    assert client.get(_links(theirs), headers=acme.headers).status_code == 404
