"""A partner manager's QBR, start to finish in Chromium, without the API.

Journey Acme's partner manager builds "Partner pipeline" in the builder, previews it, downloads
the unsaved preview as CSV, saves it, shares it with its partner Journey Globex and exports it
as CSV from the report page; builds two more reports, puts reports on a new dashboard from the
reports page, then edits it on its page (renames it, adds a panel, moves one up, removes one,
shares it with Globex) and downloads the QBR deck, which python-pptx opens with one slide per
panel and a title slide. A Globex user opens the shared dashboard and its deck: every number
is Globex's own (its two deals, 55 + 45), never Acme's, whose private amount carries the canary
7,373,737 and whose deals are in other stages.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Download, Page, expect

from tests.browser.helpers import LiveServer, Visitor, read_deck
from tests.browser.test_reports import (
    CANARY,
    CANARY_PATTERNS,
    _assert_drawn,
    _canvas,
    _new_dashboard,
    report_companies,
)
from tests.fixtures.builders import Member

pytestmark = pytest.mark.xdist_group("browser")

PIPELINE = "Partner pipeline"
COUNT = "Deal count"
BY_PARTNER = "Pipeline by partner"
HEADER = ["Stage", "Count", "Sum of my amount"]


@pytest.fixture(scope="module")
def companies(live_server: LiveServer) -> tuple[Member, Member]:
    """Acme and Globex as `test_reports` seeds them, under names of their own."""
    return report_companies(live_server, "Journey")


def _download(page: Page, name: str, *, button: bool = False) -> tuple[Download, bytes]:
    with page.expect_download() as info:
        target = page.get_by_role("button" if button else "link", name=name, exact=True)
        target.click()
    download = info.value
    path = download.path()
    assert path is not None
    return download, Path(path).read_bytes()


def _csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def _build(a: Visitor, name: str, chart: str, group: str, *, amount: bool) -> None:
    """Fill the builder (on /reports/new) with count (and sum of my amount) by `group`."""
    page = a.page
    page.get_by_role("textbox", name=re.compile(r"^Name\b")).fill(name)
    page.get_by_label("Records").select_option("opportunity")
    page.get_by_label("Chart").select_option(label=chart)
    page.get_by_label("Group by").select_option(label=group)
    page.get_by_label("Count", exact=True).check()
    mine = page.get_by_label("Sum of my amount", exact=True)
    if amount:
        mine.check()
    else:
        mine.uncheck()


def _save_report(a: Visitor, name: str) -> str:
    a.click(a.page.get_by_role("button", name="Save report"))
    expect(a.page.get_by_role("heading", level=1)).to_have_text(name)
    return a.page.url


def _panel_names(a: Visitor) -> list[str]:
    return [t.strip() for t in a.page.locator("#panels h2").all_inner_texts()]


def test_a_partner_manager_builds_shares_and_exports_a_report_and_a_dashboard(
    companies: tuple[Member, Member],
    browser: Browser,
    live_server: LiveServer,
    screenshots: Path,
    visitors: list[Visitor],
) -> None:
    acme, globex = companies
    a = Visitor("Acme", browser, live_server.url, screenshots)
    b = Visitor("Globex", browser, live_server.url, screenshots, record=True)
    visitors.extend([a, b])
    a.sign_in(acme.email)
    page = a.page

    # the builder: previewed, then downloaded as CSV without being saved
    a.go("/reports/new")
    _build(a, PIPELINE, "Bar", "Stage", amount=True)
    a.click(page.get_by_role("button", name="Preview"))
    expect(page.locator("#report-result table")).to_contain_text("7,373,737.00")
    _assert_drawn(_canvas(a, "#report-result"))
    download, content = _download(page, "Download CSV", button=True)
    assert download.suggested_filename == "Partner-pipeline.csv"
    rows = _csv(content)
    assert rows[0] == HEADER
    assert ["Develop", "1", "7373737.00"] in rows
    expect(page).to_have_url(re.compile(r"/reports/new$"))  # still on the builder
    a.shot("32-report-builder-download")

    # saved, then shared with Globex from the report page, and exported there
    report_url = _save_report(a, PIPELINE)
    page.locator("details.report-sharing summary").click()
    page.locator(f"input[name='share_companies'][value='{globex.company_id}']").check()
    a.click(page.get_by_role("button", name="Save report"))
    expect(a.flash()).to_contain_text("Report saved.")
    assert page.url == report_url
    expect(
        page.locator(f"input[name='share_companies'][value='{globex.company_id}']")
    ).to_be_checked()
    download, content = _download(page, "Export CSV")
    assert download.suggested_filename.endswith(".csv")
    rows = _csv(content)
    assert rows[0] == HEADER
    assert ["Closed won", "2", "3500.00"] in rows, rows

    # two more reports for the dashboard
    a.go("/reports/new")
    _build(a, COUNT, "Table only", "(nothing)", amount=False)
    _save_report(a, COUNT)
    a.go("/reports/new")
    _build(a, BY_PARTNER, "Bar", "Partner company", amount=True)
    _save_report(a, BY_PARTNER)

    # a dashboard from the reports page, with two of them
    _new_dashboard(a, "QBR draft", PIPELINE, COUNT)
    board_url = page.url
    assert _panel_names(a) == [COUNT, PIPELINE]  # in the order the reports page lists them

    # edited on its page: a panel added (as a pie), moved up, another removed
    page.get_by_label("Saved report to add").select_option(label=BY_PARTNER)
    page.get_by_label("Shown as").select_option(label="Pie")
    a.click(page.get_by_role("button", name="Add panel"))
    expect(a.flash()).to_contain_text("Panel added.")
    assert _panel_names(a) == [COUNT, PIPELINE, BY_PARTNER]
    a.click(page.get_by_role("button", name=f"Move panel 3, {BY_PARTNER}, up"))
    expect(a.flash()).to_contain_text("Panel moved up.")
    assert _panel_names(a) == [COUNT, BY_PARTNER, PIPELINE]
    a.click(page.get_by_role("button", name=f"Remove panel 1, {COUNT}"))
    expect(a.flash()).to_contain_text("Panel removed.")
    assert _panel_names(a) == [BY_PARTNER, PIPELINE]
    expect(page.locator("#panels canvas[data-chart]")).to_have_count(2)
    # renamed and shared with Globex
    details = page.locator("form.report-editor-details")
    details.get_by_role("textbox", name=re.compile(r"^Name\b")).fill("Globex QBR")
    details.locator(f"input[name='share_companies'][value='{globex.company_id}']").check()
    a.click(details.get_by_role("button", name="Save name and sharing"))
    expect(a.flash()).to_contain_text("Dashboard saved.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Globex QBR")
    assert page.url == board_url
    expect(page.locator("#panels")).to_contain_text("7,373,737.00")
    _assert_drawn(_canvas(a, "#panels section:nth-of-type(2)"))  # the bar chart
    a.shot("33-dashboard-edited")

    # the QBR deck: a title slide and one slide per panel
    download, content = _download(page, "Download QBR deck (PPTX)")
    assert download.suggested_filename == "Globex-QBR.pptx"
    titles, values = read_deck(content)
    assert titles == ["Globex QBR", BY_PARTNER, PIPELINE]
    assert float(CANARY) in values  # Acme's own deck holds Acme's numbers

    # Globex opens the shared dashboard: its own numbers, never Acme's
    b.sign_in(globex.email)
    b.go("/reports")
    b.click(b.page.get_by_role("link", name="Globex QBR"))
    expect(b.page.get_by_role("heading", level=1)).to_have_text("Globex QBR")
    main = b.page.get_by_role("main")
    expect(main).to_contain_text("Shared by Journey Acme")
    assert [t.strip() for t in b.page.locator("#panels h2").all_inner_texts()] == [
        BY_PARTNER,
        PIPELINE,
    ]
    first = b.page.locator("#panels section").nth(1).locator("table.report-table")
    # Globex's two deals are in "propose", with 55 + 45 of its own amount; Acme's are not
    expect(first.locator("tbody tr")).to_have_count(1)
    expect(first.locator("tbody tr").first).to_contain_text("Propose")
    expect(first.locator("tbody tr").first).to_contain_text("100.00")
    expect(first).not_to_contain_text("Develop")
    expect(main.get_by_role("heading", name="Edit the dashboard")).to_have_count(0)
    # the report Acme shared opens from its panel; the one it did not share is not linked
    expect(main.get_by_role("link", name=PIPELINE)).to_have_count(1)
    expect(main.get_by_role("link", name=BY_PARTNER)).to_have_count(0)
    b.shot("34-dashboard-shared-with-partner")
    _, content = _download(b.page, "Download QBR deck (PPTX)")
    titles, values = read_deck(content)
    assert titles == ["Globex QBR", BY_PARTNER, PIPELINE]
    assert 100.0 in values
    assert float(CANARY) not in values
    assert float(CANARY + 3500) not in values
    b.keep_dom()
    assert b.recorder is not None
    leaks = b.recorder.leaks(CANARY_PATTERNS)
    assert not leaks, "Acme's private amount reached Globex:\n" + "\n".join(leaks[:5])
