"""The Ideas section and the portfolio page driven like a browser (htmx forms): a proposal
with missing fields comes back with its errors and writes nothing; a decline without a reason
is refused; only the host sees triage buttons; the portfolio page never shows a solution the
viewer may not see and says why a filter is refused."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.fixtures.cosell import API, record, template
from tests.fixtures.ideas import propose, world
from tests.fixtures.smtp import Inbox
from tests.web.conftest import Browser
from tests.web.conftest import new_browser as new_browser  # the shared fixture
from tests.web.html import parse
from tests.web.test_network_pages import signed_in
from tests.web.test_record_pages import htmx


def test_the_propose_form_and_triage(
    client: TestClient, inbox: Inbox, new_browser: Callable[[], Browser]
) -> None:
    w = world(client, inbox)
    page_url = f"/programs/{w.program_id}"
    seller = signed_in(new_browser, w.a_seller)
    sent = seller.client.post(
        f"{page_url}/ideas",
        data={"kind": "solution", "title": "", "problem": "", "target_customers": "Banks"},
        headers=htmx(seller, page_url),
    )
    assert sent.status_code == 422
    panel = parse(sent.text)
    dialog = panel.root.by_id("propose-idea")
    assert dialog is not None
    assert "open" in dialog.attrs
    assert "This field is required." in dialog.text
    assert client.get(f"{API}/ideas", headers=w.host.headers).json()["items"] == []

    sent = seller.client.post(
        f"{page_url}/ideas",
        data={
            "kind": "campaign",
            "title": "Joint webinar series",
            "problem": "Nobody knows our joint offer",
            "target_customers": "CIOs in retail",
            "partner_company_ids": [w.b.company_id],
            "expected_pipeline": "12,500",
        },
        headers=htmx(seller, page_url),
    )
    assert sent.status_code == 200, sent.text[:2000]
    assert "Idea proposed." in sent.text
    [idea] = client.get(f"{API}/ideas", headers=w.host.headers).json()["items"]
    assert idea["kind"] == "campaign"
    assert idea["expected_pipeline"] == {"value": "12500.00", "currency": "USD"}
    assert "Accept into the workflow" not in sent.text  # the seller does not triage

    host = signed_in(new_browser, w.host)
    shown = host.page(page_url)
    assert "Accept into the workflow" in shown.text
    refused = host.client.post(
        f"{page_url}/ideas/{idea['id']}/decline", data={"reason": " "},
        headers=htmx(host, page_url),
    )  # fmt: skip
    assert refused.status_code == 422
    assert "This field is required." in refused.text
    assert client.get(f"{API}/ideas/{idea['id']}", headers=w.host.headers).json()["status"] == (
        "open"
    )
    accepted = host.client.post(
        f"{page_url}/ideas/{idea['id']}/accept", headers=htmx(host, page_url)
    )
    assert accepted.status_code == 200
    assert "Idea accepted" in accepted.text
    again = host.client.post(f"{page_url}/ideas/{idea['id']}/accept", headers=htmx(host, page_url))
    assert again.status_code == 409
    assert "just triaged by someone else" in again.text


def test_the_portfolio_page_shows_only_what_i_may_see(
    client: TestClient, inbox: Inbox, new_browser: Callable[[], Browser]
) -> None:
    w = world(client, inbox)
    secret = "CANARY-portfolio-7731"
    record(client, w.host, "solution", f"Host only {secret}")
    idea = propose(client, w.a, w.program_id)
    accepted = client.post(f"{API}/ideas/{idea['id']}/accept", headers=w.host.headers).json()
    joined = client.post(
        f"{API}/solutions/{accepted['record_id']}/participants/{w.a.company_id}/accept",
        headers=w.a.headers,
    )
    assert joined.status_code == 200, joined.text
    partner = signed_in(new_browser, w.a)
    page = partner.page("/solutions/portfolio")
    assert "Landing zone security pack" in page.text
    assert "Business Review" in page.text
    assert secret not in partner.get("/solutions/portfolio").text
    host = signed_in(new_browser, w.host)
    assert secret in host.get("/solutions/portfolio").text

    template(client, w.a, "solution", industry="private")
    client.patch(f"{API}/me/preferences", json={"hide_private_fields": True}, headers=w.a.headers)
    refused = partner.page("/solutions/portfolio?industry=retail")
    assert "Landing zone security pack" not in refused.text
    alert = [e for e in refused.root.find_all("div") if "alert-error" in e.classes()]
    assert alert, refused.text[:2000]
