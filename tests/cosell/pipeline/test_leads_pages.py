"""Lead and deal-registration pages driven like a browser: the nominations inbox shows only the
invitation, the lead panel nominates and shows decisions to the nominator only, the opportunity
panel registers a deal, and the settings page is for admins."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.fixtures.builders import make_colleague, make_company, make_partnership
from tests.fixtures.pipeline import LEADS, REGISTRATIONS, join, make_lead, make_record, nominate
from tests.fixtures.smtp import Inbox
from tests.web.conftest import Browser
from tests.web.conftest import new_browser as new_browser
from tests.web.html import parse
from tests.web.test_network_pages import signed_in
from tests.web.test_record_pages import htmx

CANARY = "CANARY-lead-page-91b2"


def test_a_receiver_sees_the_invitation_view_and_accepts_with_an_owner(
    client: TestClient, new_browser: Callable[[], Browser], inbox: Inbox
) -> None:
    acme, beta = make_company(client, "Acme"), make_company(client, "Beta")
    make_partnership(client, acme, beta)
    rep = make_colleague(client, beta, "member", inbox=inbox)
    make_lead(client, beta, "Beta's own Globex lead", "Globex GmbH")
    lead = make_lead(
        client, acme, "Globex expansion", "Globex", "globex.example", description=CANARY
    )
    nominate(client, acme, lead, beta, note="Please take it")

    browser = signed_in(new_browser, beta)
    page = browser.page("/leads/nominations")
    card = page.root.by_id(f"nomination-{lead}")
    assert card is not None
    assert "Globex expansion" in card.text
    assert "globex.example" in card.text
    assert "Nominated by Acme" in card.text
    assert "Please take it" in card.text
    assert "Beta's own Globex lead" in card.text, "a duplicate warning among Beta's records"
    assert CANARY not in page.html
    # the lead's address shows only the invitation view until Beta accepts
    invitation = browser.page(f"/leads/{lead}")
    assert invitation.h1 == ["Globex expansion"]
    assert "Answer the nomination" in invitation.text
    assert CANARY not in invitation.text

    accepted = browser.submit(
        "/leads/nominations",
        f"/leads/nominations/{lead}/accept",
        {"owner_user_id": rep.user_id},
    )
    assert accepted.status_code == 200
    assert accepted.url.path == f"/leads/{lead}"
    assert "Lead accepted." in " ".join(parse(accepted.text).flashes())
    assert CANARY in accepted.text, "accepted: the lead is Beta's to see now"
    mine = client.get(f"{LEADS}/{lead}", headers=beta.headers).json()
    assert next(s for s in mine["spaces"] if s["is_mine"])["fields"]["owner"] == rep.user_id


def test_the_lead_panel_nominates_and_shows_reasons_to_the_nominator_only(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme, beta, gamma = (make_company(client, n) for n in ("Acme", "Beta", "Gamma"))
    make_partnership(client, acme, beta)
    make_partnership(client, acme, gamma)
    lead = make_lead(client, acme, "Initech rollout", "Initech", motion="co-sell")

    browser = signed_in(new_browser, acme)
    headers = htmx(browser, f"/leads/{lead}")
    page = browser.page(f"/leads/{lead}")  # the panel is in the page's own response
    assert 'hx-get="/leads/' + lead + '/pipeline"' not in page.html
    assert page.form(f"/leads/{lead}/nominate") is not None
    panel = parse(browser.get(f"/leads/{lead}/pipeline", headers=headers).text)
    nominate_form = panel.form(f"/leads/{lead}/nominate")
    assert "Beta" in nominate_form.text
    assert "Gamma" in nominate_form.text
    response = browser.client.post(
        f"/leads/{lead}/nominate",
        data={"company_ids": [beta.company_id, gamma.company_id], "note": "yours?"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    assert "Nominated to Beta, Gamma" in parse(response.text).text

    reason = "REASON-page-no-capacity-this-quarter"
    client.post(
        f"{LEADS}/{lead}/reject",
        json={"reason_code": "no_capacity", "reason": reason},
        headers=beta.headers,
    )
    client.post(
        f"{LEADS}/{lead}/accept", json={"owner_user_id": gamma.user_id}, headers=gamma.headers
    )
    panel = parse(browser.get(f"/leads/{lead}/pipeline", headers=headers).text)
    decisions = panel.root.by_id("lead-decisions")
    assert decisions is not None
    assert reason in decisions.text
    assert "No capacity" in decisions.text

    gamma_browser = signed_in(new_browser, gamma)
    gamma_headers = htmx(gamma_browser, f"/leads/{lead}")
    gamma_panel = gamma_browser.get(f"/leads/{lead}/pipeline", headers=gamma_headers)
    assert gamma_panel.status_code == 200
    assert reason not in gamma_panel.text
    assert "Beta" not in (parse(gamma_panel.text).root.by_id("lead-decisions") or panel.root).text

    converted = browser.client.post(
        f"/leads/{lead}/convert", data={"title": "Initech deal", "motion": "co-sell"},
        headers=headers,
    )  # fmt: skip
    assert converted.status_code == 204
    target = converted.headers["HX-Redirect"]
    page = browser.page(target)
    assert page.h1 == ["Initech deal"]


def test_registering_a_deal_from_the_opportunity_panel(
    client: TestClient, new_browser: Callable[[], Browser], inbox: Inbox
) -> None:
    reseller, vendor = make_company(client, "Reseller"), make_company(client, "Vendor")
    make_partnership(client, reseller, vendor)
    opportunity = make_record(client, reseller, "opportunities", "Hooli servers")
    join(client, reseller, "opportunities", opportunity, vendor)

    browser = signed_in(new_browser, reseller)
    headers = htmx(browser, f"/opportunities/{opportunity}")
    drafted = browser.client.post(
        f"/opportunities/{opportunity}/registrations",
        data={"registered_to_company_id": vendor.company_id, "notes": "Ours"},
        headers=headers,
    )
    assert drafted.status_code == 200, drafted.text
    panel = parse(drafted.text)
    assert "Registration drafted" in panel.text
    rid = client.get(REGISTRATIONS, headers=reseller.headers).json()["items"][0]["id"]
    submitted = browser.client.post(
        f"/registrations/{rid}/submit",
        data={**panel.form(f"/registrations/{rid}/submit").fields()},
        headers=headers,
    )
    assert submitted.status_code == 200, submitted.text
    assert "Submitted" in parse(submitted.text).root.by_id(f"registration-{rid}").text  # type: ignore[union-attr]

    member = make_colleague(client, vendor, "member", inbox=inbox)
    member_browser = signed_in(new_browser, member)
    member_panel = member_browser.get(
        f"/opportunities/{opportunity}/pipeline",
        headers=htmx(member_browser, f"/opportunities/{opportunity}"),
    )
    assert "Approve" not in member_panel.text, "members do not decide"
    vendor_browser = signed_in(new_browser, vendor)
    listing = vendor_browser.page("/registrations?role=registered_to")
    assert "Hooli servers" in listing.text
    vendor_panel = parse(
        vendor_browser.get(
            f"/opportunities/{opportunity}/pipeline",
            headers=htmx(vendor_browser, f"/opportunities/{opportunity}"),
        ).text
    )
    fields = dict(vendor_panel.form(f"/registrations/{rid}/approve").fields())
    approved = vendor_browser.client.post(
        f"/registrations/{rid}/approve",
        data={**fields, "next": "/registrations"},
        follow_redirects=True,
    )  # a plain form post, without htmx
    assert approved.url.path == "/registrations"
    assert "Registration approved." in " ".join(parse(approved.text).flashes())
    assert client.get(f"{REGISTRATIONS}/{rid}", headers=reseller.headers).json()["status"] == (
        "approved"
    )
    outsider = signed_in(new_browser, make_company(client, "Outsider"))
    assert outsider.get("/registrations").status_code == 200
    assert "Hooli servers" not in outsider.get("/registrations").text


def test_registration_settings_page(
    client: TestClient, new_browser: Callable[[], Browser], inbox: Inbox
) -> None:
    vendor = make_company(client, "Vendor")
    manager = make_colleague(client, vendor, "manager", inbox=inbox)
    admin = signed_in(new_browser, vendor)
    saved = admin.submit(
        "/settings/registrations",
        "/settings/registrations",
        {"expiry_days": "45", "renewal_days": "30", "max_renewals": "1"},
    )
    assert saved.status_code == 200
    assert "Registration settings saved." in " ".join(parse(saved.text).flashes())
    refused = admin.submit(
        "/settings/registrations", "/settings/registrations", {"expiry_days": "0"}
    )
    assert refused.status_code == 422
    assert "expiry_days" in parse(refused.text).errors()
    reader = signed_in(new_browser, manager)
    page = reader.page("/settings/registrations")
    assert "Only an admin" in page.text
    assert (
        client.get("/api/v1/registration-settings", headers=vendor.headers).json()["expiry_days"]
        == 45
    )
