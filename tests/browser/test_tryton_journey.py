"""The issue's "done when", in Chromium against a real Tryton 8.2: an admin connects Tryton from
the browser, checks the mapping, syncs; a deal edited in Tryton then shows up on the record page
and in the partner's view of the fields shared with it, while private values stay home."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.browser.helpers import LiveServer, Visitor
from tests.fixtures.builders import make_company, make_partnership
from tests.fixtures.records import OPPS, put_template, share_record
from tests.fixtures.tryton_peer import TrytonServer, TrytonUser

pytestmark = [pytest.mark.xdist_group("browser"), pytest.mark.slow]


@pytest.fixture
def visitor(browser: Browser, live_server: LiveServer, screenshots: Path) -> Iterator[Visitor]:
    opened = Visitor("tryton", browser, live_server.url, screenshots)
    yield opened
    opened.close()


def test_an_admin_connects_tryton_and_a_deal_edited_there_reaches_coterie_and_the_partner(
    live_server: LiveServer, visitor: Visitor, fresh_tryton: TrytonServer
) -> None:
    suffix = uuid.uuid4().hex[:6]
    with httpx.Client(base_url=live_server.url, timeout=30) as api:
        client: Any = api
        me = make_company(client, f"Northwind {suffix}")
        partner = make_company(client, f"Bosk {suffix}")
        make_partnership(client, me, partner)
        put_template(
            client,
            me,
            {"key": "amount", "visibility": "participants"},
            {"key": "margin_note", "label": "Margin note", "type": "text"},
        )
        created = api.post(
            OPPS,
            json={"title": "Umbrella data platform", "customer_name": "Umbrella Research",
                  "fields": {"amount": 1000, "close_date": "2030-03-31",
                             "margin_note": "floor 18%"}},
            headers=me.headers,
        )  # fmt: skip
        assert created.status_code == 201, created.text
        record_id = created.json()["id"]
        share_record(client, me, record_id, partner)

    visitor.sign_in(me.email)
    page = visitor.go("/settings/integrations")
    visitor.click(page.get_by_role("link", name="Connect Tryton"))
    credentials = fresh_tryton.credentials()
    page.get_by_label("Server URL").fill(credentials["url"])
    page.get_by_label("Database").fill(credentials["database"])
    page.get_by_label("User").fill(credentials["user"])
    page.get_by_label("Password").fill(credentials["password"])
    visitor.click(page.get_by_role("button", name="Test connection"))
    expect(page.locator("#test-result")).to_contain_text("Connected to Tryton")
    visitor.click(page.get_by_role("button", name="Connect", exact=True))
    expect(visitor.flash()).to_contain_text("Connected to Tryton")
    visitor.shot("tryton-connected")

    visitor.click(page.get_by_role("button", name="Sync now"))
    expect(visitor.flash()).to_contain_text("The sync is running")
    tryton = TrytonUser(fresh_tryton)
    try:
        [deal] = tryton.search_opportunities([("reference", "=", record_id)])
        assert deal["description"] == "Umbrella data platform"
        assert deal["amount"] == Decimal("1000.00")
        tryton.write_opportunity(deal["id"], amount=Decimal("2500.00"))  # a Tryton user edits
    finally:
        tryton.close()

    page = visitor.go(page.url.split("#")[0])
    visitor.click(page.get_by_role("button", name="Sync now"))
    page = visitor.go(f"/opportunities/{record_id}")
    expect(page.get_by_text("USD 2,500.00", exact=True)).to_be_visible()
    expect(page.get_by_text("Linked to Tryton")).to_be_visible()
    # the change log credits the CRM, beside the admin the sync writes as
    expect(page.locator(".timeline-text").filter(has_text="(from Tryton) changed")).to_have_count(1)
    visitor.shot("tryton-deal-updated")

    with httpx.Client(base_url=live_server.url, timeout=30) as api:
        seen = api.get(f"{OPPS}/{record_id}", headers=partner.headers).json()
    theirs = next(s for s in seen["spaces"] if s["company_id"] == me.company_id)
    assert Decimal(str(theirs["fields"]["amount"]["value"])) == Decimal("2500")
    assert "margin_note" not in theirs["fields"]  # private values stay home
    with httpx.Client(base_url=live_server.url, timeout=30) as api:
        timeline = api.get(f"{OPPS}/{record_id}/timeline", headers=partner.headers)
    assert timeline.status_code == 200, timeline.text
    texts = [item["text"] for item in timeline.json()["items"]]
    assert any("changed" in t and "Amount" in t for t in texts)  # the partner sees the change...
    assert "Tryton" not in timeline.text  # ...not which CRM my company uses
