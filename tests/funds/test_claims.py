"""Claims beyond the happy path: the more-information loop of a claim, and the proof of
performance seam (`coterie.funds.proof`) that attachments will fill."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from coterie.authz.principal import Principal
from coterie.funds import proof
from tests.fixtures.funds import FUNDS, act, allot, approved, budget, network


def test_a_claim_sent_back_for_information_is_answered_and_approved(client: TestClient) -> None:
    net = network(client)
    b = budget(client, net)
    allot(client, net.host, b["id"], net.partner)
    req = approved(client, net, b["id"], "1000.00")
    claim = client.post(f"{FUNDS}/requests/{req['id']}/claims", json={"amount": "600.00"},
                        headers=net.partner.headers).json()  # fmt: skip
    url = f"{FUNDS}/claims/{claim['id']}"
    assert act(client, net.host, f"{url}/more-info", {"message": ""}).status_code == 422
    asked = act(client, net.host, f"{url}/more-info", {"message": "Attendance list, please"})
    assert asked.json()["status"] == "more_info"
    # the funder cannot pay a claim that is not approved
    assert act(client, net.host, f"{url}/pay",
               {"payment_reference": "X", "paid_on": "2020-01-01"}).status_code == 409  # fmt: skip
    answered = act(client, net.partner, f"{url}/resubmit", {"description": "240 attendees"})
    assert answered.json()["status"] == "submitted"
    assert act(client, net.host, f"{url}/approve").json()["status"] == "approved"
    request = client.get(f"{FUNDS}/requests/{req['id']}", headers=net.partner.headers).json()
    assert request["claimed"] == "600.00"


@pytest.fixture
def proof_files() -> Iterator[dict[uuid.UUID, int]]:
    """Proof required, with the number of files per claim set by the test."""
    files: dict[uuid.UUID, int] = {}

    def count(session: Session, principal: Principal, claim_id: uuid.UUID) -> int:
        return files.get(claim_id, 0)

    proof.install(count)
    try:
        yield files
    finally:
        proof.uninstall()


def test_with_proof_required_a_claim_is_a_draft_until_a_file_is_attached(
    client: TestClient, proof_files: dict[uuid.UUID, int]
) -> None:
    net = network(client)
    b = budget(client, net)
    allot(client, net.host, b["id"], net.partner)
    req = approved(client, net, b["id"], "1000.00")
    url = f"{FUNDS}/requests/{req['id']}/claims"
    at_once = client.post(url, json={"amount": "500.00"}, headers=net.partner.headers)
    assert at_once.status_code == 422
    assert at_once.json()["errors"][0]["path"] == "proof"
    draft = client.post(url, json={"amount": "500.00", "submit": False},
                        headers=net.partner.headers)  # fmt: skip
    assert draft.status_code == 201, draft.text
    assert draft.json()["status"] == "draft"
    claim_url = f"{FUNDS}/claims/{draft.json()['id']}"
    assert act(client, net.partner, f"{claim_url}/submit").status_code == 422
    proof_files[uuid.UUID(draft.json()["id"])] = 1
    submitted = act(client, net.partner, f"{claim_url}/submit")
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted"
    request = client.get(f"{FUNDS}/requests/{req['id']}", headers=net.partner.headers).json()
    assert request["claimed"] == "500.00"  # only the submitted claim holds its amount
