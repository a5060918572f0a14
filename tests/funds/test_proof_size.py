"""A proof of performance file larger than the general request body limit (1 MiB) but within
the attachment limit is taken, through the API and through the request page, like any file
attached to a record: the upload routes of claims get the upload body limit too."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.fixtures.attachments import pdf_bytes
from tests.fixtures.funds import FUNDS, allot, approved, budget, network, signed_in

LARGE = 3 * 1_048_576  # three times the request body limit, far below the 25 MB file limit


def _large_pdf() -> bytes:
    # a real PDF followed by a long comment: still a PDF by its content
    return pdf_bytes() + b"\n%" + b"x" * LARGE + b"\n%%EOF\n"


def _draft(client: TestClient, app: FastAPI) -> tuple[object, str, str]:
    net = network(client)
    b = budget(client, net)
    allot(client, net.host, b["id"], net.partner)
    req = approved(client, net, b["id"], "1000.00")
    draft = client.post(
        f"{FUNDS}/requests/{req['id']}/claims",
        json={"amount": "400.00", "submit": False, "description": "Webinar run"},
        headers=net.partner.headers,
    )
    assert draft.status_code == 201, draft.text
    return net, req["id"], draft.json()["id"]


def test_a_proof_file_over_one_mebibyte_is_taken_through_the_api(
    client: TestClient, app: FastAPI
) -> None:
    net, _, claim_id = _draft(client, app)
    content = _large_pdf()
    uploaded = client.post(
        f"{FUNDS}/claims/{claim_id}/proof",
        files={"file": ("attendance.pdf", content, "application/pdf")},
        headers=net.partner.headers,  # type: ignore[attr-defined]
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["size"] == len(content)


def test_a_proof_file_over_one_mebibyte_is_taken_through_the_request_page(
    client: TestClient, app: FastAPI
) -> None:
    net, request_id, claim_id = _draft(client, app)
    browser = signed_in(app, net.partner)  # type: ignore[attr-defined]
    page = browser.get(f"/funds/requests/{request_id}")
    assert page.status_code == 200
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    token = found.group(1)
    posted = browser.post(
        f"/funds/claims/{claim_id}/proof",
        data={"csrf_token": token},
        files={"file": ("attendance.pdf", _large_pdf(), "application/pdf")},
        follow_redirects=False,
    )
    assert posted.status_code == 303, posted.text[:500]
    listed = client.get(
        f"{FUNDS}/claims/{claim_id}/proof",
        headers=net.partner.headers,  # type: ignore[attr-defined]
    ).json()["items"]
    assert [f["filename"] for f in listed] == ["attendance.pdf"]
