"""The CRM sync's decisions in Chromium: a partner manager resolves a conflict in the inbox,
then finds the record's place in the CRM on the record page ("In your CRM": linked, choosing
among candidates, pushing a record that is not there yet). The CRM is held in memory."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from coterie.models.sync import LinkState
from tests.browser.helpers import LiveServer, Visitor
from tests.fixtures.builders import make_company
from tests.fixtures.records import create_record, put_template
from tests.sync.inbox_builders import NEXT_STEP, make_conflict, make_connection, make_link
from tests.sync.memory_crm import KIND, install_memory_crm

pytestmark = pytest.mark.xdist_group("browser")


@pytest.fixture
def visitor(browser: Browser, live_server: LiveServer, screenshots: Path) -> Iterator[Visitor]:
    opened = Visitor("crm-sync", browser, live_server.url, screenshots)
    yield opened
    opened.close()


def test_a_manager_resolves_a_conflict_and_links_records_from_the_record_page(
    live_server: LiveServer, visitor: Visitor, monkeypatch: pytest.MonkeyPatch
) -> None:
    crm = install_memory_crm(monkeypatch)  # the live server runs in this process
    app: Any = live_server.server.config.app
    with httpx.Client(base_url=live_server.url, timeout=10) as api:
        client: Any = api
        acme = make_company(client, f"Acme {uuid.uuid4().hex[:6]}")
        put_template(client, acme, NEXT_STEP)
        initech = create_record(client, acme, "Initech renewal", next_step="Send the quote")
        globex = create_record(client, acme, "Globex expansion", next_step="Workshop")
        umbrella = create_record(client, acme, "Umbrella pilot", next_step="Scope it")
    crm.put("Opportunity", "M1", {"Name": "Initech renewal", "NextStep": "Demo on site"})
    crm.put("Opportunity", "M2", {"Name": "Globex expansion (EMEA)", "NextStep": "Call"})
    crm.put("Opportunity", "M3", {"Name": "Globex expansion (US)", "NextStep": "Call"})
    connection = make_connection(app, acme, kind=KIND, name="Acme Memory CRM")
    link = make_link(
        app,
        connection,
        initech,
        remote_id="M1",
        shadows={"space.next_step": ("Call the CFO", "Demo on site")},
    )
    make_conflict(
        app,
        connection,
        link,
        initech,
        base="Call the CFO",
        coterie="Send the quote",
        crm="Demo on site",
        winner="coterie",
    )
    make_link(
        app,
        connection,
        globex,
        remote_id=None,
        state=LinkState.CANDIDATE,
        candidates=[
            {"remote_id": "M2", "name": "Globex expansion (EMEA)"},
            {"remote_id": "M3", "name": "Globex expansion (US)"},
        ],
    )
    visitor.sign_in(acme.email)

    # the inbox: one conflict, its field by label, both values, the winner marked
    page = visitor.go(f"/settings/integrations/{connection}/conflicts")
    row = page.locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Initech renewal")
    expect(row).to_contain_text("Next step")
    expect(row).to_contain_text("Send the quote")
    expect(row).to_contain_text("Demo on site")
    expect(row.locator(".badge-success")).to_have_text("Won")
    visitor.shot("crm-conflicts-inbox")
    visitor.click(row.get_by_role("button", name="Use the other value"))
    expect(visitor.flash()).to_contain_text("Switched")
    expect(page.locator("tbody tr")).to_have_count(0)
    expect(page.get_by_text("No conflict waits for you.")).to_be_visible()
    visitor.shot("crm-conflicts-empty")

    # the record now holds the CRM's value, and the panel says where it lives in the CRM
    page = visitor.go(f"/opportunities/{initech}")
    expect(page.locator("#my-space")).to_contain_text("Demo on site")
    panel = page.locator("#crm-panel")
    expect(panel).to_contain_text("Linked to Memory CRM record M1")
    expect(panel.get_by_role("link", name="open in Memory CRM")).to_have_attribute(
        "href", "https://crm.example/Opportunity/M1"
    )
    visitor.shot("crm-panel-linked")

    # several CRM records may be this one: the manager picks one
    page = visitor.go(f"/opportunities/{globex}")
    panel = page.locator("#crm-panel")
    expect(panel).to_contain_text("Globex expansion (EMEA)")
    visitor.shot("crm-panel-candidates")
    visitor.click(panel.get_by_role("button", name="This one (Globex expansion (US))"))
    expect(panel).to_contain_text("Linked to Memory CRM record M3")
    assert crm.records["M3"].values["NextStep"] == "Workshop"  # merged: Coterie owns it

    # a record not in the CRM yet
    page = visitor.go(f"/opportunities/{umbrella}")
    panel = page.locator("#crm-panel")
    expect(panel).to_contain_text("Not in Memory CRM yet.")
    visitor.click(panel.get_by_role("button", name="Push to CRM"))
    expect(panel).to_contain_text("Linked to Memory CRM record")
    visitor.shot("crm-panel-pushed")
    assert any(r.values.get("Name") == "Umbrella pilot" for r in crm.records.values())
