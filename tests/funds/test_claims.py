"""Claims beyond the happy path: the more-information loop of a claim, and proof of
performance (`coterie.funds.claim_files`): a claim is submitted only with a file, the files are
read by the requester and the funder only, and a third company learns nothing of them."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text

from coterie.models.attachment import Attachment
from coterie.models.funds import FundClaim, FundRequest
from tests.fixtures.attachments import pdf_bytes
from tests.fixtures.builders import Member, make_company, make_partnership
from tests.fixtures.funds import (
    FUNDS,
    Network,
    act,
    allot,
    approved,
    attach_proof,
    budget,
    claim,
    network,
    request_body,
    signed_in,
)

CANARY = "CANARY-PROOF-FILE-5521"


def test_a_claim_sent_back_for_information_is_answered_and_approved(client: TestClient) -> None:
    net = network(client)
    b = budget(client, net)
    allot(client, net.host, b["id"], net.partner)
    req = approved(client, net, b["id"], "1000.00")
    made = claim(client, net.partner, req["id"], "600.00").json()
    url = f"{FUNDS}/claims/{made['id']}"
    assert act(client, net.host, f"{url}/more-info", {"message": ""}).status_code == 422
    asked = act(client, net.host, f"{url}/more-info", {"message": "Attendance list, please"})
    assert asked.json()["status"] == "more_info"
    # the funder cannot pay a claim that is not approved
    assert act(client, net.host, f"{url}/pay",
               {"payment_reference": "X", "paid_on": "2020-01-01"}).status_code == 409  # fmt: skip
    # while the funder waits for information, the partner adds a file to the claim
    assert attach_proof(client, net.partner, made["id"]).status_code == 201
    answered = act(client, net.partner, f"{url}/resubmit", {"description": "240 attendees"})
    assert answered.json()["status"] == "submitted"
    assert act(client, net.host, f"{url}/approve").json()["status"] == "approved"
    request = client.get(f"{FUNDS}/requests/{req['id']}", headers=net.partner.headers).json()
    assert request["claimed"] == "600.00"


def _draft(client: TestClient, net: Network, request_id: str, amount: str) -> dict[str, str]:
    response = client.post(
        f"{FUNDS}/requests/{request_id}/claims",
        json={"amount": amount, "submit": False, "description": "Webinar run"},
        headers=net.partner.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "draft"
    return dict(response.json())


def _rows(engine: Engine, statement: Any) -> list[tuple[Any, ...]]:
    """Rows as stored, every company's (row-level security bypassed on PostgreSQL)."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT set_config('app.rls_bypass', 'on', true)"))
        return [tuple(row) for row in connection.execute(statement)]


def _claim_state(engine: Engine, claim_id: str) -> tuple[Any, ...]:
    return _rows(
        engine,
        select(FundClaim.status, FundClaim.version, FundRequest.claimed_cents)
        .join(FundRequest, FundRequest.id == FundClaim.request_id)
        .where(FundClaim.id == uuid.UUID(claim_id)),
    )[0]


def test_a_claim_without_proof_is_422_and_nothing_changes_then_a_pdf_submits_it(
    client: TestClient, engine: Engine
) -> None:
    net = network(client)
    b = budget(client, net)
    allot(client, net.host, b["id"], net.partner)
    req = approved(client, net, b["id"], "1000.00")
    at_once = client.post(
        f"{FUNDS}/requests/{req['id']}/claims", json={"amount": "500.00"},
        headers=net.partner.headers,
    )  # fmt: skip
    assert at_once.status_code == 422
    assert at_once.json()["errors"][0]["path"] == "proof"
    draft = _draft(client, net, req["id"], "500.00")
    before = _claim_state(engine, draft["id"])
    refused = act(client, net.partner, f"{FUNDS}/claims/{draft['id']}/submit")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["path"] == "proof"
    assert _claim_state(engine, draft["id"]) == before == ("draft", before[1], 0)
    # the funder cannot attach the partner's proof; nor can anybody once it is submitted
    assert attach_proof(client, net.host, draft["id"]).status_code == 403
    assert attach_proof(client, net.partner, draft["id"], pdf_bytes(CANARY)).status_code == 201
    submitted = act(client, net.partner, f"{FUNDS}/claims/{draft['id']}/submit")
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted"
    assert attach_proof(client, net.partner, draft["id"]).status_code == 409
    request = client.get(f"{FUNDS}/requests/{req['id']}", headers=net.partner.headers).json()
    assert request["claimed"] == "500.00"


def _outsider(client: TestClient, net: Network) -> Member:
    """A partner of the host that takes no part in the program."""
    outsider = make_company(client, "Outside Partner")
    make_partnership(client, net.host, outsider)
    return outsider


def test_the_funder_downloads_the_proof_and_a_third_company_gets_404_everywhere(
    app: FastAPI, client: TestClient, engine: Engine
) -> None:
    net = network(client)
    b = budget(client, net)
    allot(client, net.host, b["id"], net.partner)
    allot(client, net.host, b["id"], net.other)
    req = approved(client, net, b["id"], "1000.00")
    draft = _draft(client, net, req["id"], "800.00")
    content = pdf_bytes(CANARY)
    uploaded = client.post(
        f"{FUNDS}/claims/{draft['id']}/proof",
        files={"file": (f"{CANARY}.pdf", content, "application/pdf")},
        headers=net.partner.headers,
    )
    assert uploaded.status_code == 201, uploaded.text
    file_id = uploaded.json()["id"]
    assert act(client, net.partner, f"{FUNDS}/claims/{draft['id']}/submit").status_code == 200

    # the funder reviews the claim with its proof, and downloads it
    listed = client.get(f"{FUNDS}/claims/{draft['id']}/proof", headers=net.host.headers)
    assert [f["id"] for f in listed.json()["items"]] == [file_id]
    got = client.get(f"/api/v1/attachments/{file_id}/content", headers=net.host.headers)
    assert got.status_code == 200
    assert got.content == content
    assert "attachment" in got.headers["content-disposition"]
    with signed_in(app, net.host) as host:
        page = host.get(f"/funds/requests/{req['id']}").text
        assert f'href="/attachments/{file_id}/download"' in page
        assert host.get(f"/attachments/{file_id}/download").content == content

    # another partner on the program, and a partner of the host outside it: 404 on all of it
    for third in (net.other, _outsider(client, net)):
        for url in (
            f"{FUNDS}/claims/{draft['id']}/proof",
            f"/api/v1/attachments/{file_id}",
            f"/api/v1/attachments/{file_id}/content",
        ):
            response = client.get(url, headers=third.headers)
            assert response.status_code == 404, (url, response.status_code)
            assert CANARY not in response.text
        upload = attach_proof(client, third, draft["id"])
        assert upload.status_code == 404
        readable = [
            f"{FUNDS}/claims",
            f"{FUNDS}/requests",
            f"/api/v1/programs/{net.program_id}/attachments",
        ]
        for url in readable:
            response = client.get(url, headers=third.headers)
            assert CANARY not in response.text, url
            assert file_id not in response.text, url
        with signed_in(app, third) as browser:
            assert browser.get(f"/attachments/{file_id}/download").status_code == 404
            for url in ("/funds", f"/programs/{net.program_id}"):
                assert CANARY not in browser.get(url).text, url
    stored = _rows(engine, select(func.count()).select_from(Attachment))[0][0]
    assert stored == 1  # the refused uploads stored nothing


def test_a_partner_never_sees_another_partners_claim_files(client: TestClient) -> None:
    net = network(client)
    b = budget(client, net)
    allot(client, net.host, b["id"], net.partner)
    allot(client, net.host, b["id"], net.other)
    mine = approved(client, net, b["id"], "1000.00")
    theirs_request = client.post(
        f"{FUNDS}/requests",
        json={**request_body(b["id"], "900.00"), "submit": True},
        headers=net.other.headers,
    ).json()
    assert act(client, net.host, f"{FUNDS}/requests/{theirs_request['id']}/approve",
               {"approved_amount": "900.00"}).status_code == 200  # fmt: skip
    theirs = client.post(
        f"{FUNDS}/requests/{theirs_request['id']}/claims",
        json={"amount": "900.00", "submit": False},
        headers=net.other.headers,
    ).json()
    their_file = attach_proof(client, net.other, theirs["id"], pdf_bytes(CANARY)).json()["id"]
    assert claim(client, net.partner, mine["id"], "500.00").status_code == 200
    assert (
        client.get(f"{FUNDS}/claims/{theirs['id']}/proof", headers=net.partner.headers).status_code
        == 404
    )
    assert (
        client.get(f"/api/v1/attachments/{their_file}", headers=net.partner.headers).status_code
        == 404
    )
    own = client.get(f"{FUNDS}/claims", headers=net.partner.headers)
    assert CANARY not in own.text
    assert their_file not in own.text
