"""The design system on the pages every user sees: the record page arrives whole (workflow and
activity in its first response), settings tabs are one navigation, flashes are toasts, the
record list's filter builder is collapsed until a filter is active, long titles carry their
whole text, possessives are spelled right."""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.fixtures.activity import comment
from tests.fixtures.builders import make_company, make_partnership
from tests.fixtures.workflows import join, record, workflow
from tests.web.conftest import Browser
from tests.web.html import parse
from tests.web.test_network_pages import signed_in


def test_the_record_page_arrives_with_its_workflow_and_activity(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Orbit Analytics")
    globex = make_company(client, "Globex")
    make_partnership(client, acme, globex)
    workflow(
        client,
        acme,
        kind="opportunity",
        name="Orbit deal flow",
        stages=[
            {"key": "open", "name": "Open", "steps": [{"title": "Pricing review"}]},
            {"key": "signed", "name": "Signed", "category": "won"},
        ],
    )
    rid = record(client, acme, "opportunity", "Whole page deal")
    join(client, acme, "opportunity", rid, globex)
    comment(client, globex, rid, "Globex is in for the pilot")
    browser = signed_in(new_browser, acme)

    started = time.perf_counter()
    response = browser.get(f"/opportunities/{rid}")
    elapsed = time.perf_counter() - started
    print(f"record page with workflow and activity: {elapsed * 1000:.0f} ms")
    assert response.status_code == 200
    assert "Loading" not in response.text  # no panel of this opportunity waits for htmx
    page = browser.page(f"/opportunities/{rid}")
    panel = page.root.by_id("workflow-panel")
    activity = page.root.by_id("activity")
    assert panel is not None
    assert activity is not None
    assert "hx-get" not in panel.attrs
    assert "hx-get" not in activity.attrs
    assert "Orbit deal flow" in panel.text
    assert "Globex is in for the pilot" in activity.text
    # the panels' own forms are there, with the page's CSRF token
    assert page.form(f"/opportunities/{rid}/comments").fields()["csrf_token"]
    # a possessive of a name ending in "s"
    assert "Orbit Analytics' space" in page.text
    assert "Analytics's" not in page.text

    # the panels still refresh on their own, as htmx fragments
    headers = {"HX-Request": "true", "HX-Current-URL": f"http://testserver/opportunities/{rid}"}
    fragment = browser.get(f"/opportunities/{rid}/workflow-panel", headers=headers)
    assert fragment.status_code == 200
    assert "Orbit deal flow" in fragment.text
    assert "<html" not in fragment.text


def test_a_partner_sees_only_its_own_workflow_in_the_page(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    globex = make_company(client, "Globex")
    make_partnership(client, acme, globex)
    workflow(
        client,
        acme,
        kind="opportunity",
        name="Acme internal flow",
        stages=[{"key": "open", "name": "Open", "steps": [{"title": "Secret pricing review"}]}],
    )
    rid = record(client, acme, "opportunity", "Shared deal")
    join(client, acme, "opportunity", rid, globex)
    comment(client, acme, rid, "Acme internal note", audience="company")
    page = signed_in(new_browser, globex).page(f"/opportunities/{rid}")
    assert "Acme internal flow" not in page.text
    assert "Secret pricing review" not in page.text
    assert "Acme internal note" not in page.text


def test_long_titles_are_clamped_with_the_whole_title_at_hand(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    title = "Renewal " + "and expansion of the analytics platform " * 6
    rid = record(client, acme, "opportunity", title.strip())
    page = signed_in(new_browser, acme).page(f"/opportunities/{rid}")
    heading = page.root.by_id("record-title")
    assert heading is not None
    assert "title-clamp" in heading.classes()
    assert heading.attrs["title"] == title.strip()


def test_settings_tabs_are_one_navigation_marking_the_current_page(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    page = signed_in(new_browser, acme).page("/settings/teams")
    nav = next(n for n in page.root.find_all("nav") if n.attrs.get("aria-label") == "Settings")
    links = nav.find_all("a")
    names = [a.text for a in links]
    assert names[:3] == ["Company", "Users", "Teams"]
    assert "Data export" in names  # an admin sees the admin tabs
    current = [a.text for a in links if a.attrs.get("aria-current") == "page"]
    assert current == ["Teams"]


def test_a_flash_is_a_toast_with_a_dismiss_button(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    browser = signed_in(new_browser, acme)
    saved = browser.submit("/settings/company", "/settings/company", {})
    page = parse(saved.text)
    flashes = page.root.by_id("flashes")
    assert flashes is not None
    assert flashes.attrs["aria-live"] == "polite"
    toast = next(d for d in flashes.iter("div") if "toast" in d.classes())
    assert toast.attrs["role"] == "status"
    assert "Company profile saved." in page.flashes()
    close = toast.find("button")
    assert close is not None
    assert close.attrs["aria-label"] == "Dismiss"


def test_the_filter_builder_is_collapsed_until_a_filter_is_active(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    record(client, acme, "opportunity", "Big deal", amount=500)
    record(client, acme, "opportunity", "Small deal", amount=5)
    browser = signed_in(new_browser, acme)
    listing = browser.page("/opportunities")
    panel = listing.root.by_id("filter-panel")
    assert panel is not None
    assert "open" not in panel.attrs
    assert listing.root.by_id("filter-toggle").text.strip() == "Filters"  # type: ignore[union-attr]

    filtered = browser.page(
        "/opportunities?builder=1&match=all&ff=mine.amount&fo=gte&fv=100&apply=1"
    )
    panel = filtered.root.by_id("filter-panel")
    assert panel is not None
    assert "open" in panel.attrs
    toggle = filtered.root.by_id("filter-toggle")
    assert toggle is not None
    assert "Filters 1" in " ".join(toggle.text.split())


def test_a_program_page_arrives_with_its_plans_and_an_account_with_its_plan(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    """The co-selling panel of programs and accounts is in the first response too."""
    acme = make_company(client, "Orbit Analytics")
    program = record(client, acme, "program", "Cloud co-sell 2027")
    account = record(client, acme, "account", "Harbor Federal")
    browser = signed_in(new_browser, acme)
    for path in (f"/programs/{program}", f"/accounts/{account}"):
        response = browser.get(path)
        assert response.status_code == 200
        assert "Loading" not in response.text, path
        panel = browser.page(path).root.by_id("cosell-panel")
        assert panel is not None, path
        assert "hx-get" not in panel.attrs, path
