"""Each fund lifecycle end to end through the API, on SQLite and PostgreSQL: budget, request,
approval, claim, payment; the more-information loop; rejection; a claim deadline extension."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.fixtures.funds import (
    FUNDS,
    act,
    allot,
    approved,
    budget,
    claim,
    day,
    fund_request,
    network,
)


def test_budget_request_approve_claim_pay(client: TestClient) -> None:
    net = network(client)
    b = budget(client, net)
    allot(client, net.host, b["id"], net.partner, cap="6000.00")
    req = fund_request(client, net.partner, b["id"], "4000.00")
    assert req["status"] == "draft"
    submitted = act(client, net.partner, f"{FUNDS}/requests/{req['id']}/submit")
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted"

    decided = act(
        client,
        net.host,
        f"{FUNDS}/requests/{req['id']}/approve",
        {"approved_amount": "3500.00", "message": "Approved, minus the catering",
         "internal_note": "Catering is never funded"},
    )  # fmt: skip
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved"
    assert decided.json()["approved_amount"] == "3500.00"
    got = client.get(f"{FUNDS}/budgets/{b['id']}", headers=net.host.headers).json()
    assert (got["committed"], got["remaining"]) == ("3500.00", "6500.00")

    made = claim(
        client, net.partner, req["id"], "3000.00", description="Three webinars, 240 attendees"
    )
    assert made.status_code == 200, made.text
    assert made.json()["status"] == "submitted"
    claim_url = f"{FUNDS}/claims/{made.json()['id']}"
    assert act(client, net.host, f"{claim_url}/approve").status_code == 200
    paid = act(
        client, net.host, f"{claim_url}/pay",
        {"payment_reference": "PAY-2027-0042", "paid_on": day(0)},
    )  # fmt: skip
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "paid"
    assert paid.json()["payment_reference"] == "PAY-2027-0042"

    after = client.get(f"{FUNDS}/requests/{req['id']}", headers=net.partner.headers).json()
    assert (after["claimed"], after["paid"]) == ("3000.00", "3000.00")
    got = client.get(f"{FUNDS}/budgets/{b['id']}", headers=net.host.headers).json()
    assert (got["committed"], got["paid"]) == ("3500.00", "3000.00")
    # the partner reads its own request and decision, not the budget's total (not shared)
    seen = client.get(f"{FUNDS}/budgets/{b['id']}", headers=net.partner.headers).json()
    assert seen["total"] is None
    assert seen["remaining"] is None
    assert after["decision_message"] == "Approved, minus the catering"


def test_more_information_loop(client: TestClient) -> None:
    net = network(client)
    b = budget(client, net)
    allot(client, net.host, b["id"], net.partner)
    req = fund_request(client, net.partner, b["id"], submit=True)
    url = f"{FUNDS}/requests/{req['id']}"
    asked = act(client, net.host, f"{url}/more-info", {"message": "Which audience?"})
    assert asked.status_code == 200, asked.text
    assert asked.json()["status"] == "more_info"
    assert asked.json()["decision_message"] == "Which audience?"
    # the funder cannot approve it while it is back with the requester
    refused = act(client, net.host, f"{url}/approve", {"approved_amount": "100.00"})
    assert refused.status_code == 409
    edited = client.patch(
        url, json={"description": "Retail CIOs in Benelux"}, headers=_if_match(client, net, url)
    )
    assert edited.status_code == 200, edited.text
    again = act(client, net.partner, f"{url}/submit")
    assert again.json()["status"] == "submitted"
    ok = act(client, net.host, f"{url}/approve", {"approved_amount": "4000.00"})
    assert ok.status_code == 200, ok.text


def _if_match(client: TestClient, net: object, url: str) -> dict[str, str]:
    from tests.fixtures.versions import matching

    return matching(client, net.partner, url)  # type: ignore[attr-defined]


def test_rejection_with_reason_commits_nothing(client: TestClient) -> None:
    net = network(client)
    b = budget(client, net)
    allot(client, net.host, b["id"], net.partner)
    req = fund_request(client, net.partner, b["id"], submit=True)
    url = f"{FUNDS}/requests/{req['id']}"
    missing = act(client, net.host, f"{url}/reject", {"message": ""})
    assert missing.status_code == 422
    rejected = act(client, net.host, f"{url}/reject", {"message": "Out of the program's scope"})
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    got = client.get(f"{FUNDS}/budgets/{b['id']}", headers=net.host.headers).json()
    assert got["committed"] == "0.00"
    # nothing can be claimed on a rejected request
    refused = client.post(f"{url}/claims", json={"amount": "10.00"}, headers=net.partner.headers)
    assert refused.status_code == 409


def test_extension_moves_the_claim_deadline(client: TestClient) -> None:
    net = network(client)
    b = budget(client, net)
    allot(client, net.host, b["id"], net.partner)
    req = approved(client, net, b["id"], "1000.00")
    url = f"{FUNDS}/requests/{req['id']}"
    asked = act(
        client, net.partner, f"{url}/extension",
        {"new_deadline": day(120), "reason": "The last webinar moved"},
    )  # fmt: skip
    assert asked.status_code == 200, asked.text
    assert asked.json()["extension_status"] == "pending"
    granted = act(client, net.host, f"{url}/extension/grant")
    assert granted.status_code == 200, granted.text
    assert granted.json()["extension_status"] == "granted"
    assert granted.json()["claim_deadline"] == day(120)
