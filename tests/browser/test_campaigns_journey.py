"""Campaigns in Chromium, by clicking only: a partner manager at Campaign Acme creates a
campaign in the "New campaign" dialog (its fields by label: a select for the channel, date
pickers; an end date before the start is explained inside the dialog), attributes a lead to it
from the lead's page, sees the lead on the campaign's page with its figures, and runs "pipeline
by campaign" in the report builder. A campaign of the partner that Acme is not on never shows,
by title, on any page Acme opens. axe finds nothing serious on the list, the campaign page and
the report. Screenshots: campaigns-list, campaigns-new, campaigns-record, campaigns-report.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Locator, expect

from tests.browser.axe import serious_violations
from tests.browser.helpers import LiveServer, Visitor, assert_nothing_leaked, canary_patterns
from tests.fixtures.builders import Member, make_company, make_partnership
from tests.fixtures.campaigns import attribute, campaign
from tests.fixtures.cosell import join, record
from tests.fixtures.smtp import Inbox

pytestmark = pytest.mark.xdist_group("browser")

CANARY = "CANARY-globex-private-campaign"


@pytest.fixture
def visitor(browser: Browser, live_server: LiveServer, screenshots: Path) -> Iterator[Visitor]:
    opened = Visitor("campaigns", browser, live_server.url, screenshots, record=True)
    yield opened
    opened.close()


def _label(dialog: Locator, text: str) -> Locator:
    return dialog.get_by_label(re.compile(rf"^{re.escape(text)}(?! currency)(\s|\*|$)"))


def _axe(visitor: Visitor) -> list[str]:
    found = []
    for width in (1440, 1024):
        visitor.page.set_viewport_size({"width": width, "height": 900})
        found += [
            f"{visitor.page.url} at {width} px: {v}" for v in serious_violations(visitor.page)
        ]
    visitor.page.set_viewport_size({"width": 1280, "height": 900})
    return found


def _world(live_server: LiveServer) -> tuple[Member, str, str]:
    suffix = uuid.uuid4().hex[:6]
    with httpx.Client(base_url=live_server.url, timeout=10) as api:
        client: Any = api
        acme = make_company(client, f"Campaign Acme {suffix}")
        globex = make_company(client, f"Campaign Globex {suffix}")
        make_partnership(client, acme, globex)
        lead = record(client, acme, "lead", "Initech cloud move")
        deal = record(client, acme, "opportunity", "Initech platform", amount=42000)
        for shared in (lead, deal):
            join(client, acme, "lead" if shared == lead else "opportunity", shared, globex)
        secret = campaign(client, globex, CANARY)
        attribute(client, globex, secret, lead)
        attribute(client, globex, secret, deal)
    return acme, lead, deal


def test_a_campaign_from_the_dialog_to_pipeline_by_campaign(
    live_server: LiveServer, visitor: Visitor, inbox: Inbox
) -> None:
    acme, lead, deal = _world(live_server)
    visitor.sign_in(acme.email)
    page = visitor.page

    visitor.go("/campaigns")
    expect(page.locator("nav#sidebar a[aria-current='page']")).to_have_text("Campaigns")
    visitor.click(page.locator("#new-record-link"))
    dialog = page.locator("dialog#new-record")
    expect(dialog).to_be_visible()
    _label(dialog, "Campaign name").fill("Cloud summit 2027")
    _label(dialog, "Objective").fill("Meet IT leaders planning a cloud move")
    _label(dialog, "Audience").fill("IT leaders")
    channel = _label(dialog, "Channel")
    expect(channel).to_have_attribute("name", re.compile("channel"))
    channel.select_option(label="Event")
    start = _label(dialog, "Start date")
    assert start.get_attribute("type") == "date"
    start.fill("2027-03-10")
    _label(dialog, "End date").fill("2027-03-01")
    _label(dialog, "Expected leads").fill("40")
    _label(dialog, "Expected pipeline").fill("250000")
    visitor.click(dialog.get_by_role("button", name=re.compile(r"^Create")))
    expect(dialog).to_be_visible()
    expect(dialog.locator(".field-error")).to_contain_text(["before the start date"])
    for width in (1440, 1024):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(visitor.screenshots / f"campaigns-new-{width}.png"))
    page.set_viewport_size({"width": 1280, "height": 900})
    _label(dialog, "End date").fill("2027-03-12")
    visitor.click(dialog.get_by_role("button", name=re.compile(r"^Create")))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Cloud summit 2027")
    campaign_url = page.url

    # attribute the lead from its page, and the deal from its page
    for url in (f"/leads/{lead}", f"/opportunities/{deal}"):
        visitor.go(url)
        panel = page.locator("#links-panel")
        panel.get_by_label("Campaign").select_option(label="Cloud summit 2027")
        visitor.click(panel.get_by_role("button", name="Save campaign"))
        expect(page.locator("#links-panel .inline-notice")).to_have_text("Campaign saved.")

    visitor.go(campaign_url)
    results = page.locator("#links-panel")
    expect(results).to_contain_text("Initech cloud move")
    expect(results).to_contain_text("Initech platform")
    expect(results.locator(".facts")).to_contain_text("42,000.00")
    expect(page.locator("#my-space")).to_contain_text("Event")
    visitor.shots("campaigns-record")
    assert _axe(visitor) == []

    visitor.go("/campaigns")
    expect(page.locator("main")).to_contain_text("Cloud summit 2027")
    visitor.shots("campaigns-list")
    assert _axe(visitor) == []

    # pipeline by campaign in the report builder
    visitor.go("/reports/new")
    page.get_by_label("Records").select_option("opportunity")
    page.get_by_label("Chart").select_option(label="Bar")
    page.get_by_label("Group by").select_option(label="Campaign")
    page.get_by_label("Count", exact=True).check()
    page.get_by_label("Sum of my amount", exact=True).check()
    visitor.click(page.get_by_role("button", name="Preview"))
    preview = page.locator("#report-result")
    expect(preview.locator("table")).to_contain_text("Cloud summit 2027")
    expect(preview.locator("table")).to_contain_text("42,000.00")
    expect(preview).to_contain_text("counted in each")
    visitor.shots("campaigns-report")
    assert _axe(visitor) == []

    assert_nothing_leaked(visitor, inbox, canary_patterns(CANARY), "a partner's campaign")
