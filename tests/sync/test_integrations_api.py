"""Settings > Integrations over the API: connecting checks the CRM first and saves nothing it
refuses, a new connection gets sensible default mappings, mapping edits are conditional and
checked against both sides (a partner's private field never maps), and only my company's
admins see any of it."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from coterie.models import AuditEvent
from coterie.models.sync import SyncConnection, SyncMapping
from tests.fixtures.builders import Member, make_colleague, make_company, make_partnership
from tests.fixtures.smtp import Inbox
from tests.sync.inbox_builders import make_connection
from tests.sync.memory_crm import PASSWORD, MemoryCrm

CONNECTIONS = "/api/v1/sync/connections"
PROBLEM = "application/problem+json"
GOOD = {"url": "https://crm.acme.example", "username": "sync@acme.example", "password": PASSWORD}


def connect(client: TestClient, admin: Member, **credentials: str) -> dict[str, Any]:
    response = client.post(
        CONNECTIONS,
        json={"kind": "memcrm", "name": "Acme CRM", "credentials": {**GOOD, **credentials}},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def opportunity_mapping(client: TestClient, admin: Member, connection_id: str) -> dict[str, Any]:
    mappings = client.get(f"{CONNECTIONS}/{connection_id}/mappings", headers=admin.headers).json()
    return next(m for m in mappings if m["kind"] == "opportunity")


def _url(mapping: dict[str, Any]) -> str:
    return f"{CONNECTIONS}/{mapping['connection_id']}/mappings/{mapping['id']}"


def _put(
    client: TestClient, admin: Member, mapping: dict[str, Any], version: int | None = None
) -> Any:
    body = {k: mapping[k] for k in ("remote_object", "create_in_coterie", "create_in_crm",
                                    "on_crm_delete", "on_coterie_delete", "fields")}  # fmt: skip
    headers = dict(admin.headers)
    if version is not None:
        headers["If-Match"] = f'"{version}"'
    return client.put(_url(mapping), json=body, headers=headers)


def _count(app: FastAPI, model: type) -> int:
    with app.state.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_refused_login_saves_nothing_and_names_the_field(
    client: TestClient, app: FastAPI, crm: MemoryCrm
) -> None:
    acme = make_company(client, "Acme")
    wrong = client.post(
        CONNECTIONS,
        json={"kind": "memcrm", "name": "Acme CRM", "credentials": {**GOOD, "password": "nope"}},
        headers=acme.headers,
    )
    assert wrong.status_code == 422
    assert wrong.headers["content-type"] == PROBLEM
    assert wrong.json()["errors"] == [
        {
            "path": "body.credentials.password",
            "message": "The CRM refused this user name and password.",
            "type": "crm-refused",
        }
    ]
    bad_url = client.post(
        CONNECTIONS,
        json={"kind": "memcrm", "name": "x", "credentials": {**GOOD, "url": "crm.acme"}},
        headers=acme.headers,
    )
    assert bad_url.status_code == 422
    assert bad_url.json()["errors"][0]["path"] == "body.credentials.url"
    assert "check the address" in bad_url.json()["detail"]
    missing = client.post(
        CONNECTIONS,
        json={"kind": "memcrm", "name": "x", "credentials": {"url": GOOD["url"]}},
        headers=acme.headers,
    )
    assert missing.status_code == 422
    assert {e["path"] for e in missing.json()["errors"]} == {
        "body.credentials.username",
        "body.credentials.password",
    }
    unknown = client.post(
        CONNECTIONS,
        json={"kind": "nocrm", "name": "x", "credentials": GOOD},
        headers=acme.headers,
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["path"] == "body.kind"
    # nothing saved by any of them
    assert client.get(CONNECTIONS, headers=acme.headers).json() == []
    assert _count(app, SyncConnection) == 0
    assert _count(app, SyncMapping) == 0

    # trying credentials before connecting says what the CRM says, and saves nothing
    tried = client.post(
        "/api/v1/sync/connectors/memcrm/test", json={"credentials": GOOD}, headers=acme.headers
    )
    assert tried.json() == {
        "ok": True,
        "message": "Connected to https://crm.acme.example as sync@acme.example.",
    }
    assert _count(app, SyncConnection) == 0


def test_a_new_connection_maps_the_usual_fields_and_never_shows_the_password(
    client: TestClient, app: FastAPI, crm: MemoryCrm
) -> None:
    acme = make_company(client, "Acme")
    created = connect(client, acme)
    assert created["status"] == "active"
    assert created["label"] == "Memory CRM"
    assert created["run_as_user_id"] == acme.user_id
    assert created["settings"] == {"url": GOOD["url"], "username": GOOD["username"]}
    assert created["webhook_url"].endswith(f"/api/v1/sync/webhooks/{created['id']}")
    listed = client.get(CONNECTIONS, headers=acme.headers)
    one = client.get(f"{CONNECTIONS}/{created['id']}", headers=acme.headers)
    assert one.headers["etag"] == '"1"'
    for response in (listed, one):
        assert PASSWORD not in response.text
    with app.state.session_factory() as session:
        stored = session.scalars(select(SyncConnection)).one()
        assert PASSWORD not in stored.credentials  # sealed at rest

    mappings = client.get(f"{CONNECTIONS}/{created['id']}/mappings", headers=acme.headers).json()
    by_kind = {m["kind"]: m for m in mappings}
    assert set(by_kind) == {"opportunity", "account"}
    opportunity = {f["local"]: f for f in by_kind["opportunity"]["fields"]}
    assert {ref: f["remote"] for ref, f in opportunity.items()} == {
        "record.title": "Name",
        "space.amount": "Amount",
        "space.close_date": "CloseDate",
        "record.account": "AccountId",
        "record.description": "Description",
    }
    assert opportunity["space.close_date"]["transform"]["kind"] == "date"
    assert {f["direction"] for f in opportunity.values()} == {"both"}
    assert {f["owner"] for f in opportunity.values()} == {"coterie"}
    account = {f["local"]: f["remote"] for f in by_kind["account"]["fields"]}
    assert account == {
        "record.title": "Name",
        "record.customer_domain": "Website",
        "record.description": "Description",
    }
    with app.state.session_factory() as session:
        actions = set(session.scalars(select(AuditEvent.action)))
    assert "sync.connected" in actions


def test_mapping_edits_are_conditional_and_checked_against_both_sides(
    client: TestClient, crm: MemoryCrm
) -> None:
    acme = make_company(client, "Acme")
    created = connect(client, acme)
    mapping = opportunity_mapping(client, acme, created["id"])
    etag = client.get(_url(mapping), headers=acme.headers).headers["etag"]
    assert etag == '"1"'

    assert _put(client, acme, mapping).status_code == 428
    assert _put(client, acme, mapping, version=7).status_code == 412

    wrong = copy.deepcopy(mapping)
    wrong["fields"] += [
        {"local": "space.no_such_field", "remote": "NextStep"},
        {"local": "space.stage", "remote": "NoSuchField"},
        {"local": "space.product", "remote": "LastModifiedBy", "direction": "both"},
    ]
    refused = _put(client, acme, wrong, version=1)
    assert refused.status_code == 422
    assert refused.headers["content-type"] == PROBLEM
    paths = {e["path"]: e["message"] for e in refused.json()["errors"]}
    assert paths == {
        "body.fields.5.local": "is not a field of this kind of record",
        "body.fields.6.remote": "is not a field of Opportunity in the CRM",
        "body.fields.7.direction": "Last Modified By cannot be written in the CRM: choose "
        "“Into Coterie only”",
    }

    stage_map = copy.deepcopy(mapping)
    stage_map["fields"].append(
        {
            "local": "space.stage",
            "remote": "StageName",
            "owner": "crm",
            "transform": {"kind": "map", "choices": {"qualify": "Qualification", "won": "Won!"}},
        }
    )
    refused = _put(client, acme, stage_map, version=1)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["path"] == "body.fields.5.transform.choices.won"
    assert "not a choice of Stage" in refused.json()["errors"][0]["message"]

    stage_map["fields"][5]["transform"]["choices"]["won"] = "Closed Won"
    saved = _put(client, acme, stage_map, version=1)
    assert saved.status_code == 200, saved.text
    assert saved.headers["etag"] == '"2"'
    stage = saved.json()["fields"][5]
    assert stage["owner"] == "crm"
    assert stage["transform"]["choices"] == {"qualify": "Qualification", "won": "Closed Won"}
    # the old version is stale now: nothing of a second writer overwrites it
    assert _put(client, acme, mapping, version=1).status_code == 412
    assert len(opportunity_mapping(client, acme, created["id"])["fields"]) == 6


def test_only_fields_a_partner_shares_with_my_company_may_flow_into_my_crm(
    client: TestClient, crm: MemoryCrm
) -> None:
    acme = make_company(client, "Acme")
    globex = make_company(client, "Globex")
    make_partnership(client, acme, globex)
    template = client.put(
        "/api/v1/templates/opportunity",
        json={
            "fields": [
                {"key": "amount", "visibility": "participants"},
                {"key": "margin", "label": "Margin", "type": "number", "visibility": "private"},
            ]
        },
        headers={**globex.headers, "If-Match": '"0"'},
    )
    assert template.status_code == 200, template.text
    created = connect(client, acme)
    mapping = opportunity_mapping(client, acme, created["id"])

    private = copy.deepcopy(mapping)
    private["fields"].append(
        {"local": f"partner.{globex.company_id}.margin", "remote": "Partner_Amount__c"}
    )
    refused = _put(client, acme, private, version=1)
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {
            "path": "body.fields.5.local",
            "message": "is not a field a partner shares with your company",
            "type": "invalid",
        }
    ]

    shared = copy.deepcopy(mapping)
    shared["fields"].append(
        {
            "local": f"partner.{globex.company_id}.amount",
            "remote": "Partner_Amount__c",
            "direction": "both",
            "owner": "crm",
        }
    )
    saved = _put(client, acme, shared, version=1)
    assert saved.status_code == 200, saved.text
    partner = saved.json()["fields"][5]
    # a partner's value only ever goes out, read-only in my CRM
    assert (partner["direction"], partner["owner"]) == ("out", "coterie")


def test_another_companys_connection_does_not_exist_and_members_see_nothing(
    client: TestClient, inbox: Inbox, crm: MemoryCrm
) -> None:
    acme = make_company(client, "Acme")
    member = make_colleague(client, acme, "manager", inbox=inbox)
    globex = make_company(client, "Globex")
    created = connect(client, acme)
    mapping = opportunity_mapping(client, acme, created["id"])
    one = f"{CONNECTIONS}/{created['id']}"

    for who, expected in ((globex, 404), (member, 403)):
        headers = who.headers
        assert client.get(one, headers=headers).status_code == expected
        assert client.get(_url(mapping), headers=headers).status_code == expected
        assert _put(client, who, mapping, version=1).status_code == expected
        assert client.post(f"{one}/test", headers=headers).status_code == expected
        assert client.post(f"{one}/sync-now", headers=headers).status_code == expected
        assert client.post(f"{one}/retry-dead", headers=headers).status_code == expected
        assert client.get(f"{one}/runs", headers=headers).status_code == expected
        patched = client.patch(one, json={"paused": True}, headers={**headers, "If-Match": '"1"'})
        assert patched.status_code == expected
        assert client.delete(one, headers=headers).status_code == expected
    assert client.get(CONNECTIONS, headers=globex.headers).json() == []
    assert client.get(CONNECTIONS, headers=member.headers).status_code == 403
    assert client.get(one, headers=acme.headers).json()["status"] == "active"
    # a random id is as absent as another company's
    assert client.get(f"{CONNECTIONS}/{uuid.uuid4()}", headers=acme.headers).status_code == 404
    # and a mapping is only found under its own connection
    second = connect(client, acme)
    elsewhere = f"{CONNECTIONS}/{second['id']}/mappings/{mapping['id']}"
    assert client.get(elsewhere, headers=acme.headers).status_code == 404
    assert _put(client, acme, {**mapping, "connection_id": second["id"]}, 1).status_code == 404


def test_pause_resume_run_as_and_delete(client: TestClient, inbox: Inbox, crm: MemoryCrm) -> None:
    acme = make_company(client, "Acme")
    other_admin = make_colleague(client, acme, "admin", inbox=inbox)
    member = make_colleague(client, acme, "member", inbox=inbox)
    created = connect(client, acme)
    one = f"{CONNECTIONS}/{created['id']}"

    paused = client.patch(one, json={"paused": True}, headers={**acme.headers, "If-Match": '"1"'})
    assert paused.status_code == 200, paused.text
    assert (paused.json()["status"], paused.headers["etag"]) == ("paused", '"2"')
    assert client.post(f"{one}/sync-now", headers=acme.headers).status_code == 409
    stale = client.patch(one, json={"name": "x"}, headers={**acme.headers, "If-Match": '"1"'})
    assert stale.status_code == 412

    not_admin = client.patch(
        one, json={"run_as_user_id": member.user_id}, headers={**acme.headers, "If-Match": '"2"'}
    )
    assert not_admin.status_code == 422
    assert not_admin.json()["errors"][0]["path"] == "body.run_as_user_id"
    resumed = client.patch(
        one,
        json={"paused": False, "run_as_user_id": other_admin.user_id},
        headers={**acme.headers, "If-Match": '"2"'},
    )
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["status"] == "active"
    assert resumed.json()["run_as_user_id"] == other_admin.user_id
    # resuming woke a run (the tests' queue runs it at once): it is listed with its counts
    runs = client.get(f"{one}/runs", headers=acme.headers).json()
    assert runs
    assert runs[0]["finished_at"] is not None
    assert runs[0]["error"] is None

    tested = client.post(f"{one}/test", headers=acme.headers).json()
    assert tested == {"ok": True, "message": f"Connected to {GOOD['url']} as {GOOD['username']}."}

    assert client.delete(one, headers=acme.headers).status_code == 204
    assert client.get(one, headers=acme.headers).status_code == 404
    assert client.get(CONNECTIONS, headers=acme.headers).json() == []


def test_testing_a_connection_whose_connector_is_gone_says_so(
    client: TestClient, app: FastAPI, crm: MemoryCrm
) -> None:
    acme = make_company(client, "Acme")
    orphan = make_connection(app, acme, kind="uninstalled", name="Old CRM")
    tested = client.post(f"{CONNECTIONS}/{orphan}/test", headers=acme.headers)
    assert tested.status_code == 200, tested.text
    assert tested.json() == {
        "ok": False,
        "message": "The uninstalled connector is not installed on this server any more.",
    }
