"""Joint sales plans: the profile (program, period, status), who edits it, owners on each side,
and plan links: only records you see and are on can be linked, and each company lists only the
linked records it may see."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.fixtures.builders import Member, make_colleague, make_company
from tests.fixtures.cosell import API, fill, join, link, plan, record, template
from tests.fixtures.smtp import Inbox
from tests.fixtures.versions import at_version


def test_plan_profile_program_period_status_and_owners(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    beta = make_company(client, "Beta")
    program_id = record(client, acme, "program", "Cloud co-sell program")
    plan_id = record(client, acme, "plan", "EMEA plan")
    join(client, acme, "plan", plan_id, beta)
    template(client, acme, "plan", owner="participants")
    fill(client, acme, "plan", plan_id, owner=acme.user_id)
    fill(client, beta, "plan", plan_id, owner=beta.user_id)  # Beta keeps its owner private

    url = f"{API}/plans/{plan_id}/profile"
    fresh = client.get(url, headers=acme.headers)
    assert fresh.status_code == 200
    assert fresh.json()["version"] == 0
    assert fresh.json()["status"] == "draft"
    assert fresh.json()["can_edit"] is True
    body = {
        "program_id": program_id,
        "period_start": "2026-01-01",
        "period_end": "2026-03-31",
        "status": "active",
    }
    saved = client.put(url, json=body, headers={**acme.headers, "If-Match": "0"})
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 1
    assert saved.headers["ETag"] == '"1"'
    assert saved.json()["program_title"] == "Cloud co-sell program"
    again = client.put(url, json=body, headers={**acme.headers, "If-Match": "0"})
    assert again.status_code == 412

    seen_by_beta = client.get(url, headers=beta.headers).json()
    assert seen_by_beta["can_edit"] is False
    # Beta is not on the program: the plan does not tell it which program it belongs to
    assert seen_by_beta["program_id"] is None
    assert seen_by_beta["program_title"] is None
    assert seen_by_beta["period_end"] == "2026-03-31"
    owners = {o["company_id"]: o for o in seen_by_beta["owners"]}
    assert owners[acme.company_id]["user_id"] == acme.user_id
    assert owners[acme.company_id]["user_name"]
    assert owners[beta.company_id]["user_id"] == beta.user_id  # its own
    acme_owners = {
        o["company_id"]: o for o in client.get(url, headers=acme.headers).json()["owners"]
    }
    assert acme_owners[beta.company_id]["user_id"] is None  # private to Beta

    refused = client.put(url, json=body, headers=at_version(beta, 1))
    assert refused.status_code == 403


def test_plan_profile_is_checked(client: TestClient, inbox: Inbox) -> None:
    acme = make_company(client, "Acme")
    beta = make_company(client, "Beta")
    plan_id = record(client, acme, "plan", "Plan")
    url = f"{API}/plans/{plan_id}/profile"
    hidden_program = record(client, beta, "program", "Beta's program")
    first = at_version(acme, 0)  # the plan has no profile yet
    response = client.put(url, json={"program_id": hidden_program}, headers=first)
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "body.program_id"
    response = client.put(
        url, json={"period_start": "2026-04-01", "period_end": "2026-01-01"}, headers=first
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "body.period_end"
    response = client.put(url, json={"status": "paused"}, headers=first)
    assert response.status_code == 422
    member = make_colleague(client, acme, "member", inbox=inbox)
    assert (
        client.put(url, json={"status": "active"}, headers=at_version(member, 0)).status_code == 403
    )
    manager = make_colleague(client, acme, "manager", inbox=inbox)
    saved = client.put(url, json={"status": "active"}, headers=at_version(manager, 0))
    assert saved.status_code == 200, saved.text


def test_link_list_and_unlink_records(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    beta = make_company(client, "Beta")
    plan_id = plan(client, acme, "Plan", beta)
    shared = record(client, acme, "opportunity", "Shared deal", amount=100)
    join(client, acme, "opportunity", shared, beta)
    acme_only = record(client, acme, "opportunity", "Acme-only deal CANARY")
    account = record(client, beta, "account", "Target account")
    lead = record(client, beta, "lead", "Beta lead")
    link(client, acme, plan_id, shared)
    link(client, acme, plan_id, acme_only)
    link(client, beta, plan_id, lead)
    nominated = client.post(
        f"{API}/plans/{plan_id}/target-accounts",
        json={"account_id": account},
        headers=beta.headers,
    )
    assert nominated.status_code == 201, nominated.text
    assert nominated.json()["role"] == "target_account"
    assert nominated.json()["record"]["title"] == "Target account"

    def listed(who: Member, query: str = "") -> dict[str, str]:
        response = client.get(f"{API}/plans/{plan_id}/records{query}", headers=who.headers)
        assert response.status_code == 200, response.text
        return {i["record"]["title"]: i["role"] for i in response.json()["items"]}

    assert listed(acme) == {"Shared deal": "pipeline", "Acme-only deal CANARY": "pipeline"}
    assert listed(beta) == {
        "Shared deal": "pipeline",
        "Beta lead": "pipeline",
        "Target account": "target_account",
    }
    assert listed(beta, "?role=target_account") == {"Target account": "target_account"}
    assert listed(beta, "?kind=lead") == {"Beta lead": "pipeline"}
    body = client.get(f"{API}/plans/{plan_id}/records", headers=beta.headers).text
    assert "CANARY" not in body
    assert acme_only not in body

    again = client.post(
        f"{API}/plans/{plan_id}/records", json={"record_id": shared}, headers=beta.headers
    )
    assert again.status_code == 409
    # Beta did not link it and does not own the plan
    assert (
        client.delete(f"{API}/plans/{plan_id}/records/{shared}", headers=beta.headers).status_code
        == 403
    )
    # a record Beta cannot see is not there for it, even to remove
    assert (
        client.delete(
            f"{API}/plans/{plan_id}/records/{acme_only}", headers=beta.headers
        ).status_code
        == 404
    )
    # the plan owner removes a link another company made, of a record it sees... it cannot see
    # Beta's lead, so for Acme that link does not exist
    assert (
        client.delete(f"{API}/plans/{plan_id}/records/{lead}", headers=acme.headers).status_code
        == 404
    )
    assert (
        client.delete(f"{API}/plans/{plan_id}/records/{shared}", headers=acme.headers).status_code
        == 204
    )
    assert "Shared deal" not in listed(beta)


def test_only_records_you_see_and_are_on_can_be_linked(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    beta = make_company(client, "Beta")
    plan_id = plan(client, acme, "Plan", beta)
    hidden = record(client, acme, "opportunity", "Not shared")
    invited_only = record(client, acme, "opportunity", "Invited only")
    client.post(
        f"{API}/opportunities/{invited_only}/participants",
        json={"company_id": beta.company_id},
        headers=acme.headers,
    )
    account = record(client, beta, "account", "Beta's account")
    url = f"{API}/plans/{plan_id}/records"
    for record_id in (hidden, invited_only):
        response = client.post(url, json={"record_id": record_id}, headers=beta.headers)
        assert response.status_code == 404, response.text
    # an account is a target account, not pipeline; a deal is not a target account
    assert client.post(url, json={"record_id": account}, headers=beta.headers).status_code == 404
    opp = record(client, beta, "opportunity", "Beta deal")
    response = client.post(
        url, json={"record_id": opp, "role": "target_account"}, headers=beta.headers
    )
    assert response.status_code == 404
    assert client.get(url, headers=acme.headers).json()["items"] == []


def test_leaving_the_plan_closes_it(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    beta = make_company(client, "Beta")
    plan_id = plan(client, acme, "Plan", beta)
    opp = record(client, beta, "opportunity", "Beta deal")
    link(client, beta, plan_id, opp)
    left = client.delete(
        f"{API}/plans/{plan_id}/participants/{beta.company_id}", headers=beta.headers
    )
    assert left.status_code == 204
    for path in ("profile", "records", "goals", "progress"):
        assert client.get(f"{API}/plans/{plan_id}/{path}", headers=beta.headers).status_code == 404
    # Acme never saw Beta's deal: the link stays invisible to it
    assert client.get(f"{API}/plans/{plan_id}/records", headers=acme.headers).json()["items"] == []
