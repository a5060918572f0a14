"""The funds pages' forms: each use case from a browser-like client (session cookie, CSRF
token, the version the page showed); a refusal comes back as an error toast on the page the
user came from, in words, and writes nothing."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.fixtures.attachments import pdf_bytes
from tests.fixtures.funds import FUNDS, allot, budget, day, fund_request, network, signed_in


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def _version(page: str, action: str) -> str:
    form = page[page.index(f'action="{action}"') :]
    found = re.search(r'name="version" value="(\d+)"', form)
    assert found is not None
    return found.group(1)


def test_the_host_approves_from_the_page_and_an_over_amount_is_refused_in_words(
    app: FastAPI, client: TestClient
) -> None:
    net = network(client)
    b = budget(client, net, "5000.00")
    allot(client, net.host, b["id"], net.partner)
    req = fund_request(client, net.partner, b["id"], "1000.00", submit=True)
    url = f"/funds/requests/{req['id']}"
    with signed_in(app, net.host) as host:
        page = host.get(url).text
        assert "Approve the request" in page
        action = f"{url}/approve"
        form = {"csrf_token": _csrf(page), "version": _version(page, action)}
        over = host.post(action, data={**form, "approved_amount": "1200"})
        assert over.status_code == 200
        assert "Approved amount: Must not exceed the requested amount, 1,000.00 EUR." in over.text
        state = client.get(f"{FUNDS}/requests/{req['id']}", headers=net.host.headers).json()
        assert state["status"] == "submitted"
        done = host.post(action, data={**form, "approved_amount": "800", "internal_note": "ok"})
        assert "Fund request approved." in done.text
        assert "800.00 EUR" in done.text
    with signed_in(app, net.partner) as partner:
        page = partner.get(url).text
        assert "Claim funds" in page
        assert "Internal notes" not in page
        late = partner.post(
            f"{url}/claims", data={"csrf_token": _csrf(page), "amount": "900"}
        )  # over the 800 approved
        assert "Amount: Must not exceed the approved amount, 800.00 EUR." in late.text
        claimed = partner.post(
            f"{url}/claims",
            data={"csrf_token": _csrf(page), "amount": "800", "description": "Done"},
        )
        assert "Claim saved: attach your proof, then submit it." in claimed.text
        page = claimed.text
        upload = re.search(r'action="(/funds/claims/[^"]+/proof)"', page)
        assert upload is not None
        submit_action = upload.group(1).removesuffix("/proof") + "/submit"
        version = _version(page, submit_action)
        refused = partner.post(submit_action, data={"csrf_token": _csrf(page), "version": version})
        assert "Proof of performance: Attach at least one proof" in refused.text
        bad = partner.post(
            upload.group(1),
            data={"csrf_token": _csrf(page)},
            files={"file": ("proof.exe", b"MZ\x90\x00 not a document", "application/pdf")},
        )
        assert "nothing was stored" in bad.text
        assert "/download" not in bad.text  # the refused file was not stored
        uploaded = partner.post(
            upload.group(1),
            data={"csrf_token": _csrf(page)},
            files={"file": ("attendance.pdf", pdf_bytes(), "application/pdf")},
        )
        assert "attendance.pdf is attached to the claim" in uploaded.text
        assert re.search(r'href="/attachments/[^"]+/download"', uploaded.text)
        done = partner.post(
            submit_action,
            data={
                "csrf_token": _csrf(uploaded.text),
                "version": _version(uploaded.text, submit_action),
            },
        )
        assert "Claim submitted" in done.text
        assert 'action="' + upload.group(1) + '"' not in done.text  # no upload once submitted
    with signed_in(app, net.host) as host:
        review = host.get(url).text
        assert "attendance.pdf" in review  # the funder reviews the claim with its proof


def test_a_request_with_bad_dates_from_the_page_writes_nothing(
    app: FastAPI, client: TestClient
) -> None:
    net = network(client)
    b = budget(client, net)
    allot(client, net.host, b["id"], net.partner)
    with signed_in(app, net.partner) as partner:
        page = partner.get("/funds").text
        assert "Request funds" in page
        refused = partner.post(
            "/funds/requests",
            data={
                "csrf_token": _csrf(page),
                "budget_id": b["id"],
                "activity": "Roadshow",
                "requested_amount": "1000",
                "starts_on": day(20),
                "ends_on": day(10),
                "claim_deadline": day(30),
                "submit": "on",
            },
        )
        assert "Activity end: Must be on or after the activity&#39;s start." in refused.text
    listed = client.get(f"{FUNDS}/requests", headers=net.partner.headers).json()["items"]
    assert listed == []


def test_another_partners_request_page_is_not_found(app: FastAPI, client: TestClient) -> None:
    net = network(client)
    b = budget(client, net)
    allot(client, net.host, b["id"], net.partner)
    req = fund_request(client, net.partner, b["id"])
    with signed_in(app, net.other) as other:
        assert other.get(f"/funds/requests/{req['id']}").status_code == 404
        assert other.get(f"/funds/budgets/{b['id']}").status_code == 404
        empty = other.get("/funds").text
        assert "No budgets yet" in empty
