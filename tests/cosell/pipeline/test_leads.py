"""Lead nomination and decisions: partners only, the invitation view before accepting, an owner
on accept, a reason on reject that only the nominating company reads."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.fixtures.builders import make_colleague, make_company, make_partnership
from tests.fixtures.pipeline import LEADS, accept_lead, make_lead, nominate
from tests.fixtures.smtp import Inbox
from tests.kit.assertions import assert_problem

CANARY = "CANARY-lead-7c1e-private"


def test_nominating_a_company_that_is_not_a_partner_is_refused_and_writes_nothing(
    client: TestClient,
) -> None:
    acme, partner, stranger = (make_company(client, n) for n in ("Acme", "Beta", "Stranger"))
    make_partnership(client, acme, partner)
    lead = make_lead(client, acme, "Globex expansion", "Globex", "globex.example")

    refused = client.post(
        f"{LEADS}/{lead}/nominate",
        json={"company_ids": [partner.company_id, stranger.company_id]},
        headers=acme.headers,
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["path"] == "body.company_ids[1]"
    # nothing happened to the partner listed first
    assert client.get("/api/v1/record-invitations", headers=partner.headers).json() == []
    assert client.get(f"{LEADS}/{lead}/decisions", headers=acme.headers).json() == []

    own = client.post(
        f"{LEADS}/{lead}/nominate", json={"company_ids": [acme.company_id]}, headers=acme.headers
    )
    assert own.status_code == 422
    pending = make_partnership(client, acme, stranger, accept=False)
    assert pending
    still = client.post(
        f"{LEADS}/{lead}/nominate",
        json={"company_ids": [stranger.company_id]},
        headers=acme.headers,
    )
    assert still.status_code == 422, "a pending partnership is not an accepted one"


def test_the_receiver_sees_only_the_invitation_until_it_accepts_with_an_owner(
    client: TestClient, inbox: Inbox
) -> None:
    acme, beta = make_company(client, "Acme"), make_company(client, "Beta")
    make_partnership(client, acme, beta)
    rep = make_colleague(client, beta, "member", inbox=inbox)
    lead = make_lead(
        client, acme, "Globex expansion", "Globex", "globex.example", description=CANARY
    )
    decisions = nominate(client, acme, lead, beta, note="They asked for an SI")
    assert [d["status"] for d in decisions] == ["pending"]
    assert decisions[0]["company_name"] == "Beta"

    inbox_items = client.get(f"{LEADS}/nominations?status=pending", headers=beta.headers).json()
    assert len(inbox_items["items"]) == 1
    item = inbox_items["items"][0]
    assert item["title"] == "Globex expansion"
    assert item["customer_name"] == "Globex"
    assert item["customer_domain"] == "globex.example"
    assert item["nominated_by_company_name"] == "Acme"
    assert item["note"] == "They asked for an SI"
    assert CANARY not in str(inbox_items)
    # nothing else: the lead itself and its decisions are hidden like nonexistent records
    assert client.get(f"{LEADS}/{lead}", headers=beta.headers).status_code == 404
    assert client.get(f"{LEADS}/{lead}/decisions", headers=beta.headers).status_code == 404

    outsider = make_company(client, "Outsider")
    assert (
        client.post(
            f"{LEADS}/{lead}/accept", json={"owner_user_id": outsider.user_id}, headers=beta.headers
        ).status_code
        == 422
    )
    accepted = accept_lead(client, beta, lead, owner=rep)
    assert accepted["status"] == "accepted"
    assert accepted["owner_user_id"] == rep.user_id

    record = client.get(f"{LEADS}/{lead}", headers=beta.headers)
    assert record.status_code == 200
    mine = next(s for s in record.json()["spaces"] if s["is_mine"])
    assert mine["fields"]["owner"] == rep.user_id
    assert (
        client.get(f"{LEADS}/nominations?status=pending", headers=beta.headers).json()["items"]
        == []
    )
    done = client.get(f"{LEADS}/nominations?status=accepted", headers=beta.headers).json()
    assert [i["record_id"] for i in done["items"]] == [lead]
    seen_by_acme = client.get(f"{LEADS}/{lead}/decisions", headers=acme.headers).json()
    assert [(d["company_name"], d["status"]) for d in seen_by_acme] == [("Beta", "accepted")]

    again = client.post(
        f"{LEADS}/{lead}/accept", json={"owner_user_id": rep.user_id}, headers=beta.headers
    )
    assert_problem(again, 409, "already-decided")


def test_a_rejection_reason_reaches_the_nominator_and_no_other_receiver(
    client: TestClient,
) -> None:
    acme, beta, gamma = (make_company(client, n) for n in ("Acme", "Beta", "Gamma"))
    make_partnership(client, acme, beta)
    make_partnership(client, acme, gamma)
    lead = make_lead(client, acme, "Initech rollout", "Initech")
    nominate(client, acme, lead, beta, gamma)

    reason = "REASON-we-sell-to-initech-directly"
    rejected = client.post(
        f"{LEADS}/{lead}/reject",
        json={"reason_code": "already_engaged", "reason": reason},
        headers=beta.headers,
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["reason"] == reason
    accept_lead(client, gamma, lead)

    by_acme = {d["company_name"]: d for d in client.get(
        f"{LEADS}/{lead}/decisions", headers=acme.headers
    ).json()}  # fmt: skip
    assert by_acme["Beta"]["status"] == "rejected"
    assert by_acme["Beta"]["reason_code"] == "already_engaged"
    assert by_acme["Beta"]["reason"] == reason
    assert by_acme["Gamma"]["status"] == "accepted"

    # Gamma is on the lead now, but sees only its own decision, never Beta's reason
    by_gamma = client.get(f"{LEADS}/{lead}/decisions", headers=gamma.headers)
    assert by_gamma.status_code == 200
    assert [d["company_name"] for d in by_gamma.json()] == ["Gamma"]
    assert reason not in by_gamma.text
    assert reason not in client.get(f"{LEADS}/{lead}", headers=gamma.headers).text

    # Beta declined: it sees nothing more of the lead, and its invitation left the inbox
    assert client.get(f"{LEADS}/{lead}", headers=beta.headers).status_code == 404
    assert client.get("/api/v1/record-invitations", headers=beta.headers).json() == []
    participants = client.get(f"{LEADS}/{lead}", headers=acme.headers).json()["participants"]
    assert {p["company_name"]: p["status"] for p in participants}["Beta"] == "declined"
    mine = client.get(f"{LEADS}/nominations?status=rejected", headers=beta.headers).json()
    assert [(i["reason_code"], i["reason"]) for i in mine["items"]] == [("already_engaged", reason)]

    # answering twice is a conflict; a company never nominated gets 404
    assert_problem(
        client.post(f"{LEADS}/{lead}/reject", json={"reason_code": "other"}, headers=beta.headers),
        409,
        "already-decided",
    )
    outsider = make_company(client, "Outsider")
    assert (
        client.post(
            f"{LEADS}/{lead}/reject", json={"reason_code": "other"}, headers=outsider.headers
        ).status_code
        == 404
    )
    bad_code = client.post(
        f"{LEADS}/{lead}/reject", json={"reason_code": "bored"}, headers=gamma.headers
    )
    assert bad_code.status_code == 422


def test_answering_through_the_generic_invitation_routes_shows_in_the_decisions(
    client: TestClient,
) -> None:
    acme, beta, gamma = (make_company(client, n) for n in ("Acme", "Beta", "Gamma"))
    make_partnership(client, acme, beta)
    make_partnership(client, acme, gamma)
    lead = make_lead(client, acme, "Umbrella", "Umbrella")
    nominate(client, acme, lead, beta, gamma)
    declined = client.post(
        f"{LEADS}/{lead}/participants/{beta.company_id}/decline",
        json={"reason": "not now"},
        headers=beta.headers,
    )
    assert declined.status_code == 204, declined.text
    withdrawn = client.delete(
        f"{LEADS}/{lead}/participants/{gamma.company_id}", headers=acme.headers
    )
    assert withdrawn.status_code == 204
    statuses = {
        d["company_name"]: d["status"]
        for d in client.get(f"{LEADS}/{lead}/decisions", headers=acme.headers).json()
    }
    assert statuses == {"Beta": "rejected", "Gamma": "withdrawn"}
    # nominating again re-opens the decision
    again = nominate(client, acme, lead, gamma)
    assert [d["status"] for d in again] == ["pending"]


def test_a_declined_invitation_on_any_record_cannot_be_declined_twice(client: TestClient) -> None:
    acme, beta = make_company(client, "Acme"), make_company(client, "Beta")
    opportunity = client.post(
        "/api/v1/opportunities", json={"title": "Deal"}, headers=acme.headers
    ).json()["id"]
    client.post(
        f"/api/v1/opportunities/{opportunity}/participants",
        json={"company_id": beta.company_id},
        headers=acme.headers,
    )
    url = f"/api/v1/opportunities/{opportunity}/participants/{beta.company_id}/decline"
    assert client.post(url, headers=beta.headers).status_code == 204
    assert_problem(client.post(url, headers=beta.headers), 409, "not-invited")
    other = f"/api/v1/opportunities/{opportunity}/participants/{acme.company_id}/decline"
    assert client.post(other, headers=beta.headers).status_code == 403


def test_motion_is_validated_per_kind(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    refused = client.post(
        "/api/v1/accounts", json={"title": "Globex", "motion": "resell"}, headers=acme.headers
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["path"] == "body.motion"
    lead = client.post(LEADS, json={"title": "Globex", "motion": "referral"}, headers=acme.headers)
    assert lead.status_code == 201
    assert lead.json()["motion"] == "referral"
