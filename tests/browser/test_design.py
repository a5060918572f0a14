"""The design system in Chromium: flashes are toasts (announced, dismissable, gone after a few
seconds), an htmx `toast` trigger shows one too, the settings tabs fit one line at 1440 px and
scroll rather than wrap at 1024 px, the record list's filter builder opens from its "Filters"
button, and the record page shows its workflow and activity without loading them afterwards."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.browser.helpers import LiveServer, Visitor
from tests.fixtures.activity import comment
from tests.fixtures.builders import Member, make_company, make_partnership
from tests.fixtures.cosell import join, record

pytestmark = pytest.mark.xdist_group("browser")

TITLE = (
    "Expansion of the analytics platform across every EMEA subsidiary, with the partner's "
    "managed services and a joint go-to-market plan for the public sector and the banks"
)


@pytest.fixture(scope="module")
def companies(live_server: LiveServer) -> tuple[Member, Member, str]:
    """Orbit Analytics and its partner Globex on one shared opportunity with a comment."""
    suffix = uuid.uuid4().hex[:6]
    with httpx.Client(base_url=live_server.url, timeout=10) as api:
        client: Any = api
        orbit = make_company(client, f"Orbit Analytics {suffix}s")
        globex = make_company(client, f"Design Globex {suffix}")
        make_partnership(client, orbit, globex)
        deal = record(client, orbit, "opportunity", TITLE, amount=1200)
        record(client, orbit, "opportunity", "Small deal", amount=5)
        join(client, orbit, "opportunity", deal, globex)
        comment(client, globex, deal, "Globex is in for the pilot")
    return orbit, globex, deal


@pytest.fixture
def visitor(browser: Browser, live_server: LiveServer, screenshots: Path) -> Iterator[Visitor]:
    opened = Visitor("design", browser, live_server.url, screenshots)
    yield opened
    opened.close()


def test_a_flash_is_an_announced_toast_that_goes_away(
    companies: tuple[Member, Member, str], visitor: Visitor
) -> None:
    orbit, _, _ = companies
    visitor.sign_in(orbit.email)
    page = visitor.page
    visitor.go("/settings/company")
    visitor.click(page.get_by_role("button", name="Save profile"))
    toast = page.locator("#flashes .toast").filter(has_text="Company profile saved.")
    expect(toast).to_be_visible()
    expect(toast).to_have_attribute("role", "status")
    expect(page.locator("#flashes")).to_have_attribute("aria-live", "polite")
    box = toast.bounding_box()
    assert box is not None
    assert box["x"] > 1280 / 2  # in the top right corner, over the page
    visitor.shots("design-toast")
    # it hides itself after a few seconds
    expect(toast).to_be_hidden(timeout=15_000)

    # dismissed at once with its button
    visitor.click(page.get_by_role("button", name="Save profile"))
    toast = page.locator("#flashes .toast:visible").filter(has_text="Company profile saved.")
    expect(toast).to_be_visible()
    toast.get_by_role("button", name="Dismiss").click()
    expect(toast).to_have_count(0)


def test_an_htmx_toast_trigger_shows_a_toast(
    companies: tuple[Member, Member, str], visitor: Visitor
) -> None:
    orbit, _, _ = companies
    visitor.sign_in(orbit.email)
    page = visitor.go("/")
    # what htmx does with `HX-Trigger: {"toast": {"message": ..., "level": ...}}`
    page.evaluate(
        """() => document.body.dispatchEvent(new CustomEvent("toast", {
            bubbles: true, detail: {message: "Stage order saved.", level: "info"}}))"""
    )
    toast = page.locator("#flashes .alert-info").filter(has_text="Stage order saved.")
    expect(toast).to_be_visible()
    expect(toast).to_have_attribute("role", "status")
    page.evaluate(
        """() => document.body.dispatchEvent(new CustomEvent("toast", {
            bubbles: true, detail: {message: "Could not save.", level: "error"}}))"""
    )
    error = page.locator("#flashes .alert-error").filter(has_text="Could not save.")
    expect(error).to_have_attribute("role", "alert")
    error.get_by_role("button", name="Dismiss").click()
    expect(error).to_be_hidden()


def test_settings_tabs_fit_one_line_at_1440_and_scroll_at_1024(
    companies: tuple[Member, Member, str], visitor: Visitor
) -> None:
    orbit, _, _ = companies
    visitor.sign_in(orbit.email)
    page = visitor.page
    page.set_viewport_size({"width": 1440, "height": 900})
    visitor.go("/settings/users")
    tabs = page.get_by_role("navigation", name="Settings").get_by_role("link")
    assert tabs.count() == 12  # an admin's tabs
    first, last = tabs.first.bounding_box(), tabs.last.bounding_box()
    assert first is not None
    assert last is not None
    assert abs(first["y"] - last["y"]) < 1, (first, last)
    nav = page.get_by_role("navigation", name="Settings")
    widths = nav.evaluate("n => [n.scrollWidth, n.clientWidth]")
    assert widths[0] <= widths[1], widths  # nothing hidden at 1440
    expect(tabs.filter(has_text="Users")).to_have_attribute("aria-current", "page")
    visitor.shots("design-settings-tabs")

    page.set_viewport_size({"width": 1024, "height": 900})
    first, last = tabs.first.bounding_box(), tabs.last.bounding_box()
    assert first is not None
    assert last is not None
    assert abs(first["y"] - last["y"]) < 1  # still one row: it scrolls instead of wrapping
    expect(nav).to_have_class(re.compile(r"\bhas-more\b"))  # the hidden end fades out
    tabs.last.scroll_into_view_if_needed()
    expect(tabs.last).to_be_in_viewport()
    expect(nav).not_to_have_class(re.compile(r"\bhas-more\b"))
    visitor.shots("design-settings-tabs-scrolled", widths=(1024,))


def test_the_filter_builder_opens_from_its_button(
    companies: tuple[Member, Member, str], visitor: Visitor
) -> None:
    orbit, _, _ = companies
    visitor.sign_in(orbit.email)
    page = visitor.go("/opportunities")
    builder = page.locator(".filter-builder")
    expect(builder).to_be_hidden()
    visitor.shots("design-list-collapsed")
    page.locator("#filter-toggle").click()
    expect(builder).to_be_visible()
    page.get_by_label("Field of row 1").select_option(label="My amount")
    page.get_by_label("Operator of row 1").select_option("gte")
    page.get_by_label("Value of row 1").fill("100")
    visitor.click(page.get_by_role("button", name="Apply", exact=True).last)
    expect(page.locator("#filter-toggle")).to_contain_text("Filters 1")
    expect(builder).to_be_visible()  # open while a filter is active
    expect(page.locator("table.table-records")).not_to_contain_text("Small deal")
    visitor.shots("design-list-filtered")


def orbit_name(page: Any) -> str:
    return str(page.locator(".topbar-company").inner_text()).strip()


def test_the_record_page_shows_workflow_and_activity_with_the_page(
    companies: tuple[Member, Member, str], visitor: Visitor, live_server: LiveServer
) -> None:
    orbit, _, deal = companies
    visitor.sign_in(orbit.email)
    requests: list[str] = []
    visitor.page.on("request", lambda r: requests.append(r.url))
    page = visitor.go(f"/opportunities/{deal}")
    expect(page.locator("#workflow-panel")).to_contain_text("Workflow and tasks")
    expect(page.locator("#activity")).to_contain_text("Globex is in for the pilot")
    assert not [u for u in requests if u.endswith(("/workflow-panel", "/activity"))]
    expect(page.get_by_text("Loading workflow")).to_have_count(0)
    expect(page.get_by_text("Loading activity")).to_have_count(0)
    heading = page.locator("#record-title")
    box = heading.bounding_box()
    line = float(heading.evaluate("h => parseFloat(getComputedStyle(h).lineHeight)"))
    assert box is not None
    assert box["height"] <= 2 * line + 1  # two lines at most
    expect(heading).to_have_attribute("title", TITLE)
    expect(page.locator("#my-space-title")).to_contain_text(f"{orbit_name(page)}' space")
    visitor.shots("design-record")


def test_an_empty_lists_new_link_opens_the_dialog(
    companies: tuple[Member, Member, str], visitor: Visitor
) -> None:
    """The empty state's "New …" is a plain link to the page's dialog: it opens it at once."""
    orbit, _, _ = companies
    visitor.sign_in(orbit.email)
    page = visitor.go("/solutions")
    dialog = page.locator("dialog#new-record")
    expect(dialog).to_be_hidden()
    page.locator(".empty-state").get_by_role("link", name=re.compile(r"^New ")).click()
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("textbox").first).to_be_focused()
