"""Campaign attribution and solution links: a company links only records it sees and takes
part in, to a campaign or solution it is on; every read shows a link only when the reader sees
both ends, so a partner never learns a hidden campaign's title nor a hidden lead's existence;
a converted lead's opportunity keeps its attribution and solution links."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from coterie.db import utcnow
from coterie.models.links import RecordLink
from tests.fixtures.builders import make_company
from tests.fixtures.campaigns import attribute, campaign, link_solution, linked
from tests.fixtures.cosell import API, join, record
from tests.fixtures.pipeline import system_connection
from tests.kit.assertions import assert_problem

HIDDEN_TITLE = "CANARY-hidden-campaign-title"


def test_attribution_rights_and_one_campaign_per_company(client: TestClient) -> None:
    acme, beta, gamma = (make_company(client, n) for n in ("Acme", "Beta", "Gamma"))
    summit = campaign(client, acme, "Cloud summit")
    webinar = campaign(client, acme, "Webinar series")
    lead = record(client, acme, "lead", "Globex expansion")
    beta_lead = record(client, beta, "lead", "Beta's own lead")

    # Beta is on neither the campaign nor Acme's lead: 404 both ways, nothing written
    refused = client.post(
        f"{API}/campaigns/{summit}/records", json={"record_id": beta_lead}, headers=beta.headers
    )
    assert refused.status_code == 404
    refused = client.post(
        f"{API}/campaigns/{summit}/records", json={"record_id": beta_lead}, headers=acme.headers
    )
    assert refused.status_code == 404  # Acme does not see Beta's lead
    wrong_kind = record(client, acme, "account", "Globex")
    refused = client.post(
        f"{API}/campaigns/{summit}/records", json={"record_id": wrong_kind}, headers=acme.headers
    )
    assert refused.status_code == 404

    attribute(client, acme, summit, lead)
    again = client.post(
        f"{API}/campaigns/{summit}/records", json={"record_id": lead}, headers=acme.headers
    )
    assert_problem(again, 409, "already-linked")
    assert set(linked(client, acme, "campaigns", summit)) == {lead}

    # attributing the lead to another campaign replaces Acme's earlier choice
    chosen = client.put(
        f"{API}/leads/{lead}/campaign", json={"campaign_id": webinar}, headers=acme.headers
    )
    assert chosen.status_code == 200, chosen.text
    assert [c["title"] for c in chosen.json()["items"]] == ["Webinar series"]
    assert linked(client, acme, "campaigns", summit) == {}
    assert set(linked(client, acme, "campaigns", webinar)) == {lead}

    # Beta joins the campaign and attributes its own lead; Gamma, on the campaign, cannot
    # take Beta's link away; Acme, the campaign's owner, can
    join(client, acme, "campaign", webinar, beta, gamma)
    attribute(client, beta, webinar, beta_lead)
    join(client, beta, "lead", beta_lead, gamma)
    forbidden = client.delete(
        f"{API}/campaigns/{webinar}/records/{beta_lead}", headers=gamma.headers
    )
    assert forbidden.status_code == 403
    # Acme does not see Beta's lead: to Acme the link does not exist
    assert set(linked(client, acme, "campaigns", webinar)) == {lead}
    hidden = client.delete(f"{API}/campaigns/{webinar}/records/{beta_lead}", headers=acme.headers)
    assert hidden.status_code == 404
    assert set(linked(client, beta, "campaigns", webinar)) == {beta_lead}  # Beta misses Acme's
    gone = client.delete(f"{API}/campaigns/{webinar}/records/{beta_lead}", headers=beta.headers)
    assert gone.status_code == 204
    assert linked(client, gamma, "campaigns", webinar) == {}

    cleared = client.put(
        f"{API}/leads/{lead}/campaign", json={"campaign_id": None}, headers=acme.headers
    )
    assert cleared.json()["items"] == []


def test_a_partner_never_learns_a_hidden_campaign_nor_a_hidden_lead(client: TestClient) -> None:
    acme, beta = make_company(client, "Acme"), make_company(client, "Beta")
    secret = campaign(client, acme, HIDDEN_TITLE)
    lead = record(client, acme, "lead", "Shared lead")
    join(client, acme, "lead", lead, beta)
    attribute(client, acme, secret, lead)

    for url in (
        f"{API}/leads/{lead}/campaign",
        f"{API}/leads/{lead}/solutions",
        f"{API}/leads/{lead}",
    ):
        seen = client.get(url, headers=beta.headers)
        assert seen.status_code == 200
        assert HIDDEN_TITLE not in seen.text
        assert secret not in seen.text
    assert client.get(f"{API}/leads/{lead}/campaign", headers=beta.headers).json()["items"] == []
    for url in (f"{API}/campaigns/{secret}/records", f"{API}/campaigns/{secret}/influence"):
        assert client.get(url, headers=beta.headers).status_code == 404
    # Beta may not attribute the lead to the hidden campaign either: the same 404 as no campaign
    put = client.put(
        f"{API}/leads/{lead}/campaign", json={"campaign_id": secret}, headers=beta.headers
    )
    assert put.status_code == 404
    assert HIDDEN_TITLE not in put.text

    # a lead Acme cannot see, attributed by Beta to Acme's campaign, never counts for Acme
    join(client, acme, "campaign", secret, beta)
    private_lead = record(client, beta, "lead", "CANARY-beta-private-lead")
    attribute(client, beta, secret, private_lead)
    influence = client.get(f"{API}/campaigns/{secret}/influence", headers=acme.headers).json()
    assert influence["leads"] == 1
    seen = client.get(f"{API}/campaigns/{secret}/records", headers=acme.headers)
    assert "CANARY-beta-private-lead" not in seen.text
    assert (
        client.get(f"{API}/campaigns/{secret}/influence", headers=beta.headers).json()["leads"] == 2
    )


def test_solutions_link_opportunities_plans_and_campaigns(client: TestClient) -> None:
    acme, beta = make_company(client, "Acme"), make_company(client, "Beta")
    solution = record(client, acme, "solution", "Secure cloud bundle")
    opportunity = record(client, acme, "opportunity", "Globex renewal")
    plan = record(client, acme, "plan", "FY27 plan")
    summit = campaign(client, acme, "Cloud summit")
    for record_id in (opportunity, plan, summit):
        link_solution(client, acme, solution, record_id)
    assert {i["kind"] for i in linked(client, acme, "solutions", solution).values()} == {
        "opportunity", "plan", "campaign",
    }  # fmt: skip
    of_plan = client.get(f"{API}/plans/{plan}/solutions", headers=acme.headers).json()["items"]
    assert [s["title"] for s in of_plan] == ["Secure cloud bundle"]
    itself = client.post(
        f"{API}/solutions/{solution}/records", json={"record_id": solution}, headers=acme.headers
    )
    assert itself.status_code == 404  # a solution is not among what a solution takes

    # Beta, on the solution and the plan only, sees just that link
    join(client, acme, "solution", solution, beta)
    join(client, acme, "plan", plan, beta)
    assert set(linked(client, beta, "solutions", solution)) == {plan}
    refused = client.post(
        f"{API}/solutions/{solution}/records", json={"record_id": opportunity}, headers=beta.headers
    )
    assert refused.status_code == 404


def test_a_converted_lead_keeps_its_campaign_and_solutions(client: TestClient) -> None:
    acme, beta = make_company(client, "Acme"), make_company(client, "Beta")
    summit = campaign(client, acme, "Cloud summit")
    solution = record(client, acme, "solution", "Secure cloud bundle")
    hidden = campaign(client, beta, "CANARY-beta-campaign")
    lead = record(client, acme, "lead", "Globex expansion", core={"motion": "co-sell"})
    join(client, acme, "lead", lead, beta)
    join(client, beta, "campaign", hidden)
    attribute(client, acme, summit, lead)
    link_solution(client, acme, solution, lead)
    attribute(client, beta, hidden, lead)  # Beta's own claim, on a campaign Acme cannot see

    converted = client.post(f"{API}/leads/{lead}/convert", json={}, headers=acme.headers)
    assert converted.status_code == 201, converted.text
    opportunity = converted.json()["id"]
    campaigns = client.get(f"{API}/opportunities/{opportunity}/campaign", headers=acme.headers)
    assert [c["title"] for c in campaigns.json()["items"]] == ["Cloud summit"]
    assert campaigns.json()["items"][0]["linked_by_company_id"] == acme.company_id
    solutions = client.get(f"{API}/opportunities/{opportunity}/solutions", headers=acme.headers)
    assert [s["title"] for s in solutions.json()["items"]] == ["Secure cloud bundle"]
    assert set(linked(client, acme, "campaigns", summit)) == {lead, opportunity}
    # Beta's claim stays on its lead (Acme, converting, could not see it): Beta re-attributes
    assert set(linked(client, beta, "campaigns", hidden)) == {lead}


def test_the_database_keeps_one_campaign_per_record_and_company(
    client: TestClient, engine: Engine
) -> None:
    """Racing attributions of one record by one company cannot both land: the partial unique
    index refuses the second (the service inserts with ON CONFLICT DO NOTHING and answers 409)."""
    acme = make_company(client, "Acme")
    first, second = campaign(client, acme, "First"), campaign(client, acme, "Second")
    lead = record(client, acme, "lead", "Lead")
    attribute(client, acme, first, lead)
    row = {
        "id": uuid.uuid4(),
        "from_record_id": uuid.UUID(lead),
        "from_kind": "lead",
        "to_record_id": uuid.UUID(second),
        "to_kind": "campaign",
        "relation": "campaign",
        "linked_by_company_id": uuid.UUID(acme.company_id),
        "linked_at": utcnow(),
    }
    with pytest.raises(IntegrityError), system_connection(engine) as connection:
        connection.execute(RecordLink.__table__.insert().values(row))
    # a solution link of the same pair is another relation: allowed
    with system_connection(engine) as connection:
        connection.execute(
            RecordLink.__table__.insert().values(
                {**row, "id": uuid.uuid4(), "relation": "solution", "to_kind": "solution"}
            )
        )
    assert set(linked(client, acme, "campaigns", first)) == {lead}
