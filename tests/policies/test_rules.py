"""Access rules as users meet them: who sees which record, what is shared with partners, and
that narrowing a rule, a team or a partnership revokes at once."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from coterie.config import Settings
from tests.fixtures.builders import Member, make_colleague, make_company, make_partnership
from tests.fixtures.records import OPPS, create_record, fill_space, put_template
from tests.fixtures.smtp import Inbox
from tests.fixtures.versions import matching, my_space
from tests.kit.assertions import assert_problem


def _share_region(client: TestClient, admin: Member) -> None:
    put_template(client, admin, {"key": "region", "visibility": "participants"})


def _titles(client: TestClient, who: Member) -> set[str]:
    response = client.get(OPPS, headers=who.headers, params={"limit": 500})
    assert response.status_code == 200, response.text
    return {item["title"] for item in response.json()["items"]}


def _rule(client: TestClient, admin: Member, **body: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/rules", json={"kind": "opportunity", **body}, headers=admin.headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_visibility_rule_decides_what_each_colleague_sees(client: TestClient, inbox: Inbox) -> None:
    acme = make_company(client, "Acme")
    emea_rep = make_colleague(client, acme, "member", inbox=inbox)
    apac_rep = make_colleague(client, acme, "member", inbox=inbox)
    create_record(client, acme, "Berlin", region="emea")
    create_record(client, acme, "Tokyo", region="apac")
    own = create_record(client, apac_rep, "Sydney (mine)", region="apac")
    # no visibility rule yet: every member sees every record of the company
    assert _titles(client, emea_rep) == {"Berlin", "Tokyo", "Sydney (mine)"}

    team = client.post(
        "/api/v1/teams", json={"name": "EMEA", "members": [emea_rep.user_id]}, headers=acme.headers
    )
    assert team.status_code == 201, team.text
    rule = _rule(
        client,
        acme,
        name="EMEA team sees EMEA deals",
        type="visibility",
        condition={"field": "region", "op": "eq", "value": "emea"},
        grantees={"teams": [team.json()["id"]]},
    )
    assert _titles(client, emea_rep) == {"Berlin"}
    assert _titles(client, apac_rep) == {"Sydney (mine)"}  # the records they created stay theirs
    assert _titles(client, acme) == {"Berlin", "Tokyo", "Sydney (mine)"}  # admins see everything
    hidden = client.get(f"{OPPS}/{own}", headers=emea_rep.headers)
    assert hidden.status_code == 404

    # read-only grant: the EMEA rep can read Berlin but not write its space
    berlin = next(i for i in client.get(OPPS, headers=emea_rep.headers).json()["items"])
    refused = client.patch(
        f"{OPPS}/{berlin['id']}/spaces/mine",
        json={"fields": {"stage": "x"}},
        headers=my_space(client, emea_rep, f"{OPPS}/{berlin['id']}"),
    )
    assert refused.status_code == 403

    # a record that changes to match appears at once; one that stops matching disappears
    tokyo = next(
        i for i in client.get(OPPS, headers=acme.headers).json()["items"] if i["title"] == "Tokyo"
    )
    fill_space(client, acme, tokyo["id"], region="emea")
    assert _titles(client, emea_rep) == {"Berlin", "Tokyo"}

    # leaving the team revokes at once
    client.patch(f"/api/v1/teams/{team.json()['id']}", json={"members": []}, headers=acme.headers)
    assert _titles(client, emea_rep) == set()

    # deleting the last visibility rule returns the company to "everyone sees everything"
    rule_url = f"/api/v1/rules/{rule['id']}"
    assert_problem(client.delete(rule_url, headers=acme.headers), 428, "precondition-required")
    assert client.delete(rule_url, headers=matching(client, acme, rule_url)).status_code == 204
    assert _titles(client, emea_rep) == {"Berlin", "Tokyo", "Sydney (mine)"}


def test_auto_share_invites_partner_and_unshares_when_record_stops_matching(
    client: TestClient, inbox: Inbox
) -> None:
    acme = make_company(client, "Acme")
    globex = make_company(client, "Globex")
    make_partnership(client, acme, globex)
    big = create_record(client, acme, "Big", amount=5000)
    create_record(client, acme, "Small", amount=10)

    preview = client.post(
        "/api/v1/rules/preview",
        json={
            "kind": "opportunity",
            "name": "Big deals to Globex",
            "type": "auto_share",
            "condition": {"field": "amount", "op": "gte", "value": 1000},
            "grantees": {"companies": [globex.company_id]},
        },
        headers=acme.headers,
    )
    assert preview.json()["matching_records"] == 1
    rule = _rule(
        client,
        acme,
        name="Big deals to Globex",
        type="auto_share",
        condition={"field": "amount", "op": "gte", "value": 1000},
        grantees={"companies": [globex.company_id]},
    )
    inbox_items = client.get("/api/v1/record-invitations", headers=globex.headers).json()
    assert [i["title"] for i in inbox_items] == ["Big"]
    accepted = client.post(
        f"{OPPS}/{big}/participants/{globex.company_id}/accept", headers=globex.headers
    )
    assert accepted.status_code == 200
    assert _titles(client, globex) == {"Big"}

    # a new matching record is shared when created
    create_record(client, acme, "Huge", amount=90000)
    assert {
        i["title"] for i in client.get("/api/v1/record-invitations", headers=globex.headers).json()
    } == {"Huge"}

    # the record stops matching: the partner loses it immediately, accepted or not
    fill_space(client, acme, big, amount=10)
    assert client.get(f"{OPPS}/{big}", headers=globex.headers).status_code == 404

    # disabling the rule withdraws the pending invitation too
    body = {k: rule[k] for k in ("name", "kind", "type", "condition", "grantees", "permission")}
    rule_url = f"/api/v1/rules/{rule['id']}"
    updated = client.put(
        rule_url, json={**body, "enabled": False}, headers=matching(client, acme, rule_url)
    )
    assert updated.status_code == 200, updated.text
    assert client.get("/api/v1/record-invitations", headers=globex.headers).json() == []


def test_revoking_a_partnership_unshares_rule_shared_records(
    client: TestClient, inbox: Inbox
) -> None:
    acme = make_company(client, "Acme")
    globex = make_company(client, "Globex")
    partnership = make_partnership(client, acme, globex)
    deal = create_record(client, acme, "Deal", amount=5000)
    _rule(
        client,
        acme,
        name="All to Globex",
        type="auto_share",
        condition={},
        grantees={"companies": [globex.company_id]},
    )
    client.post(f"{OPPS}/{deal}/participants/{globex.company_id}/accept", headers=globex.headers)
    assert client.get(f"{OPPS}/{deal}", headers=globex.headers).status_code == 200
    revoked = client.post(f"/api/v1/partnerships/{partnership}/revoke", headers=globex.headers)
    assert revoked.status_code == 200
    assert client.get(f"{OPPS}/{deal}", headers=globex.headers).status_code == 404
    assert _titles(client, globex) == set()


def test_rules_are_validated_on_save(client: TestClient, inbox: Inbox, settings: Settings) -> None:
    acme = make_company(client, "Acme")
    stranger = make_company(client, "Stranger")
    member = make_colleague(client, acme, "member", inbox=inbox)
    create_record(client, acme, "One", amount=1)
    create_record(client, acme, "Two", amount=2)
    base = {
        "kind": "opportunity",
        "name": "r",
        "type": "visibility",
        "grantees": {"users": [member.user_id]},
    }

    def post(body: dict[str, Any], who: Member = acme) -> Any:
        return client.post("/api/v1/rules", json=body, headers=who.headers)

    unknown = post({**base, "condition": {"field": "secret_margin", "op": "eq", "value": 1}})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["path"].startswith("body.condition")
    foreign_user = post({**base, "grantees": {"users": [stranger.user_id]}, "condition": {}})
    assert foreign_user.status_code == 422
    assert foreign_user.json()["errors"][0]["path"] == "body.grantees.users.0"
    not_partner = post(
        {
            **base,
            "type": "auto_share",
            "grantees": {"companies": [stranger.company_id]},
            "condition": {},
        }
    )
    assert not_partner.status_code == 422
    assert post({**base, "condition": {}}, who=member).status_code == 403

    settings.rule_grant_cap = 1
    too_broad = post({**base, "condition": {"field": "amount", "op": "gte", "value": 0}})
    assert too_broad.status_code == 422
    assert too_broad.json()["type"] == "/problems/rule-too-broad"
    assert "2 records" in too_broad.json()["detail"]
    assert client.get("/api/v1/rules", headers=acme.headers).json() == []
