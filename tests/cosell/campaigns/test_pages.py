"""The links panel driven like a browser: a lead's campaign picked from a select, the campaign
page's attributed leads and figures, a solution page's links added and removed, the list page
in the navigation, and canaries of a hidden campaign never in another company's HTML."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.fixtures.builders import make_company
from tests.fixtures.campaigns import attribute, campaign
from tests.fixtures.cosell import join, record
from tests.web.conftest import Browser
from tests.web.html import parse
from tests.web.test_network_pages import signed_in
from tests.web.test_record_pages import htmx

CANARY = "CANARY-acme-secret-campaign"


@pytest.fixture
def new_browser(app: FastAPI, client: TestClient) -> Iterator[Callable[[], Browser]]:
    opened: list[TestClient] = []

    def make() -> Browser:
        opened.append(TestClient(app, base_url="http://testserver"))
        return Browser(opened[-1])

    yield make
    for other in opened:
        other.close()


def test_a_lead_is_attributed_from_its_page_and_shows_on_the_campaign(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme, beta = make_company(client, "Acme"), make_company(client, "Beta")
    summit = campaign(client, acme, "Cloud summit", channel="webinar", starts_on="2026-03-01")
    secret = campaign(client, acme, CANARY)
    lead = record(client, acme, "lead", "Globex expansion")
    join(client, acme, "lead", lead, beta)
    acme_browser = signed_in(new_browser, acme)

    listed = acme_browser.page("/campaigns")
    nav = listed.root.find("nav", id="sidebar")
    assert nav is not None
    current = [a for a in nav.find_all("a") if a.attrs.get("aria-current") == "page"]
    assert [a.text.strip() for a in current] == ["Campaigns"]
    assert "Cloud summit" in listed.text

    page = acme_browser.page(f"/leads/{lead}")
    panel = page.root.by_id("links-panel")
    assert panel is not None
    select = panel.find("select", id="links-campaign")
    assert select is not None
    options = {o.text.strip(): o.attrs.get("value") for o in select.find_all("option")}
    assert options["No campaign"] == ""
    assert options["Cloud summit"] == summit
    headers = htmx(acme_browser, f"/leads/{lead}")
    saved = acme_browser.client.post(
        f"/leads/{lead}/links/campaign", data={"campaign_id": summit}, headers=headers
    )
    assert saved.status_code == 200, saved.text[:2000]
    assert "Campaign saved." in saved.text
    again = parse(saved.text).root.find("select", id="links-campaign")
    assert again is not None
    chosen = [o for o in again.find_all("option") if "selected" in o.attrs]
    assert [o.text.strip() for o in chosen] == ["Cloud summit"]

    shown = acme_browser.page(f"/campaigns/{summit}")
    results = shown.root.by_id("links-panel")
    assert results is not None
    assert "Globex expansion" in results.text
    assert "Attributed leads" in results.text
    # the campaign's own fields show by label, the channel by its option's label
    space = shown.root.by_id("my-space")
    assert space is not None, "the page shows my space"
    assert "Channel" in space.text
    assert "Webinar" in space.text
    assert "Start date" in space.text

    # Beta on the lead sees neither Acme's campaign title nor its choices
    attribute(client, acme, secret, record(client, acme, "lead", "Another"))
    beta_browser = signed_in(new_browser, beta)
    beta_page = beta_browser.page(f"/leads/{lead}")
    assert "Cloud summit" not in beta_page.text
    assert CANARY not in beta_page.text
    assert summit not in beta_page.text
    assert beta_browser.get(f"/campaigns/{summit}").status_code == 404
    refused = beta_browser.client.post(
        f"/leads/{lead}/links/campaign",
        data={"campaign_id": summit},
        headers=htmx(beta_browser, f"/leads/{lead}"),
    )
    assert refused.status_code == 404
    assert "Cloud summit" not in refused.text


def test_a_solution_page_links_and_unlinks_records(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    solution = record(client, acme, "solution", "Secure cloud bundle")
    deal = record(client, acme, "opportunity", "Globex renewal", amount=1200, stage="develop")
    browser = signed_in(new_browser, acme)
    page = browser.page(f"/solutions/{solution}")
    panel = page.root.by_id("links-panel")
    assert panel is not None
    assert "No opportunity, plan or campaign you can see is linked" in panel.text
    headers = htmx(browser, f"/solutions/{solution}")
    empty = browser.client.post(f"/solutions/{solution}/links", data={}, headers=headers)
    assert empty.status_code == 422
    assert "Choose a record to link." in empty.text
    added = browser.client.post(
        f"/solutions/{solution}/links", data={"record_id": deal}, headers=headers
    )
    assert added.status_code == 200, added.text[:2000]
    shown = parse(added.text)
    assert "Globex renewal" in shown.text
    assert "USD 1,200.00" in shown.text  # open pipeline, the viewer's own amount
    removed = browser.client.post(f"/solutions/{solution}/links/{deal}/delete", headers=headers)
    assert removed.status_code == 200
    assert "Link removed." in removed.text
    deal_page = browser.page(f"/opportunities/{deal}")
    assert "Not linked to a joint solution you can see" in deal_page.text


def test_a_partner_on_the_campaign_never_sees_records_it_is_not_on(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme, beta = make_company(client, "Acme"), make_company(client, "Beta")
    summit = campaign(client, acme, "Cloud summit")
    join(client, acme, "campaign", summit, beta)
    private_lead = record(client, acme, "lead", "CANARY-acme-private-lead")
    private_deal = record(client, acme, "opportunity", "CANARY-acme-private-deal", amount=777777)
    attribute(client, acme, summit, private_lead)
    attribute(client, acme, summit, private_deal)
    beta_browser = signed_in(new_browser, beta)
    page = beta_browser.page(f"/campaigns/{summit}")
    panel = page.root.by_id("links-panel")
    assert panel is not None
    assert "No lead you can see is attributed to this campaign yet." in panel.text
    for canary in ("CANARY-acme-private", "777,777", "777777", private_lead, private_deal):
        assert canary not in page.text
    acme_page = signed_in(new_browser, acme).page(f"/campaigns/{summit}")
    assert "CANARY-acme-private-lead" in acme_page.text  # the owner sees its own records
    assert "USD 777,777.00" in acme_page.text
