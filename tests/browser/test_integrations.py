"""Settings > Integrations in Chromium: an admin tries a wrong password (the CRM's refusal shows
in place), connects, maps the stage to the CRM's picklist with selects only, saves, syncs and
reads the status. The CRM is the tests' in-memory connector (`tests.sync.memory_crm`)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import select

from coterie.models.sync import SyncMapping
from tests.browser.helpers import LiveServer, Visitor
from tests.fixtures.builders import make_company
from tests.sync.memory_crm import PASSWORD, install_memory_crm

pytestmark = pytest.mark.xdist_group("browser")


@pytest.fixture
def visitor(browser: Browser, live_server: LiveServer, screenshots: Path) -> Iterator[Visitor]:
    opened = Visitor("integrations", browser, live_server.url, screenshots)
    yield opened
    opened.close()


def _opportunity_editor(page: Page) -> Locator:
    return page.locator(".mapping-card").filter(
        has=page.get_by_role("heading", name=re.compile(r"^Opportunity records"))
    )


def test_an_admin_connects_a_crm_maps_the_stage_and_syncs(
    live_server: LiveServer, visitor: Visitor, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_memory_crm(monkeypatch)  # the live server runs in this process
    with httpx.Client(base_url=live_server.url, timeout=10) as api:
        client: Any = api
        acme = make_company(client, f"Sync Acme {uuid.uuid4().hex[:6]}")
    visitor.sign_in(acme.email)
    page = visitor.go("/settings")
    visitor.click(page.get_by_role("link", name="Integrations"))
    expect(page.get_by_text("No CRM is connected yet.")).to_be_visible()
    visitor.shot("integrations-empty")
    visitor.click(page.get_by_role("link", name="Connect Memory CRM"))

    page.get_by_label("Server address").fill("https://crm.acme.example")
    page.get_by_label("User name").fill("sync@acme.example")
    password = page.get_by_label("Password")
    expect(password).to_have_attribute("type", "password")
    password.fill("wrong")
    visitor.click(page.get_by_role("button", name="Test connection"))
    expect(page.locator("#test-result")).to_contain_text(
        "The CRM refused this user name and password."
    )
    visitor.shot("integrations-test-refused")
    password.fill(PASSWORD)
    visitor.click(page.get_by_role("button", name="Test connection"))
    expect(page.locator("#test-result")).to_contain_text(
        "Connected to https://crm.acme.example as sync@acme.example."
    )
    visitor.shot("integrations-test-ok")
    visitor.click(page.get_by_role("button", name="Connect", exact=True))
    expect(visitor.flash()).to_contain_text("Connected to Memory CRM")
    expect(page.locator("#status")).to_contain_text("Active")
    expect(page.get_by_text("No run yet")).to_be_visible()
    assert PASSWORD not in page.content()

    editor = _opportunity_editor(page)
    expect(editor.get_by_label("CRM field, row 1")).to_have_value("Name")
    visitor.click(editor.get_by_role("button", name="Add a field"))
    editor = _opportunity_editor(page)
    editor.get_by_label("Coterie field, row 6").select_option(label="Stage")
    visitor.settle()
    editor = _opportunity_editor(page)
    editor.get_by_label("CRM field, row 6").select_option(label="Stage")
    visitor.settle()
    editor = _opportunity_editor(page)
    # a picklist: the stages are matched one by one, with the CRM's own choices
    expect(editor.get_by_label("Conversion, row 6")).to_have_value("map")
    choices = editor.get_by_role("table", name="Matching choices of Stage")
    expect(choices).to_contain_text("Qualify")
    choices.get_by_label("Stage for Qualify").select_option("Qualification")
    choices.get_by_label("Stage for Closed won").select_option("Closed Won")
    editor.get_by_label("When both sides changed it, row 6").select_option(label="CRM wins")
    editor.get_by_label("Direction, row 6").select_option(label="Into Coterie only")
    visitor.shot("integrations-mapping-edit")
    visitor.click(editor.get_by_role("button", name="Save opportunity mapping"))
    expect(visitor.flash()).to_contain_text("Opportunity mapping saved.")

    app = live_server.server.config.app
    with app.state.session_factory() as session:
        saved = session.scalars(
            select(SyncMapping)
            .where(SyncMapping.kind == "opportunity", SyncMapping.remote_object == "Opportunity")
            .order_by(SyncMapping.updated_at.desc())
        ).first()
        assert saved is not None
        stage = next(f for f in saved.fields if f["local"] == "space.stage")
    assert stage["remote"] == "StageName"
    assert (stage["direction"], stage["owner"]) == ("in", "crm")
    assert stage["transform"] == {
        "kind": "map",
        "choices": {"qualify": "Qualification", "won": "Closed Won"},
        "currency": None,
        "rates": {},
    }

    visitor.click(page.get_by_role("button", name="Sync now"))
    expect(visitor.flash()).to_contain_text("The sync is running")
    page = visitor.go(page.url.split("#")[0])
    expect(page.locator("#runs tbody tr")).to_have_count(1, timeout=15_000)
    expect(page.locator("#runs")).to_contain_text("Done")
    expect(page.get_by_role("link", name="0 conflicts to review")).to_have_attribute(
        "href", re.compile(r"/settings/integrations/[0-9a-f-]+/conflicts$")
    )
    visitor.shot("integrations-status")

    visitor.click(page.get_by_role("button", name="Pause"))
    expect(visitor.flash()).to_contain_text("Paused")
    expect(page.locator("#status")).to_contain_text("Paused")
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    visitor.click(page.get_by_role("button", name="Resume"))
    expect(visitor.flash()).to_contain_text("Resumed")
    expect(page.locator("#status")).to_contain_text("Active")

    visitor.click(page.get_by_role("button", name="Delete connection"))
    expect(visitor.flash()).to_contain_text("The connection is deleted")
    expect(page.get_by_text("No CRM is connected yet.")).to_be_visible()
