"""The report builder in Chromium, by clicking only: no JSON anywhere.

A partner manager at Builder Acme groups opportunities by stage, ticks two measures (count and
sum of the amount), adds two filter rows (partner company = Builder Globex; close date between
1 Mar and 30 Jun 2026), previews it (Chart.js plots both measures, the count axis ticks in whole
numbers, the stages come in the pipeline's order, not alphabetically), saves it shared with
Globex, and puts it on a dashboard twice (a bar and a table panel): the currency note shows once
on the dashboard, table headings are never cut, and axe finds nothing serious on the builder,
the report or the dashboard. Screenshots: reports-builder, reports-report, reports-dashboard
(each at 1440 and 1024 px).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.browser.axe import serious_violations
from tests.browser.helpers import LiveServer, Visitor
from tests.browser.test_reports import _new_dashboard
from tests.fixtures.builders import Member, make_company, make_partnership
from tests.fixtures.cosell import join, record

pytestmark = pytest.mark.xdist_group("browser")

REPORT = "Globex pipeline, spring"
# what the filters keep: Globex's deals closing from March to June, in the pipeline's order
STAGES = ["Qualify", "Develop", "Closed lost"]

# the Chart.js instance of a canvas: datasets, labels and the ticks of each value axis
_CHART = """
(canvas) => {
  const chart = window.Chart.getChart(canvas);
  const ticks = {};
  for (const [id, scale] of Object.entries(chart.scales)) {
    if (id !== "x") ticks[id] = scale.ticks.map((t) => t.value);
  }
  return {
    labels: chart.data.labels,
    datasets: chart.data.datasets.map((d) => ({ label: d.label, axis: d.yAxisID, data: d.data })),
    ticks: ticks,
    height: canvas.getBoundingClientRect().height,
    width: canvas.getBoundingClientRect().width,
    parent: canvas.parentElement.getBoundingClientRect().width,
  };
}
"""

# headings whose text is wider than their cell: cut
_CUT_HEADINGS = """
(root) => [...root.querySelectorAll("table.report-table th")]
  .filter((th) => th.scrollWidth > th.clientWidth + 1)
  .map((th) => th.textContent.trim())
"""


def _companies(live_server: LiveServer) -> tuple[Member, Member]:
    suffix = uuid.uuid4().hex[:6]
    with httpx.Client(base_url=live_server.url, timeout=10) as api:
        client: Any = api
        acme = make_company(client, f"Builder Acme {suffix}")
        globex = make_company(client, f"Builder Globex {suffix}")
        make_partnership(client, acme, globex)
        for title, stage, amount, close in (
            ("Spring develop", "develop", 5000, "2026-04-15"),
            ("Spring qualify", "qualify", 1200, "2026-05-02"),
            ("Spring lost", "lost", 800, "2026-03-20"),
            ("Autumn propose", "propose", 9000, "2026-09-01"),  # outside the dates
        ):
            deal = record(
                client, acme, "opportunity", title, stage=stage, amount=amount, close_date=close
            )
            join(client, acme, "opportunity", deal, globex)
        # Acme alone: not Globex's
        record(
            client,
            acme,
            "opportunity",
            "Solo",
            stage="propose",
            amount=700,
            close_date="2026-04-10",
        )
    return acme, globex


@pytest.fixture
def visitor(browser: Browser, live_server: LiveServer, screenshots: Path) -> Iterator[Visitor]:
    opened = Visitor("report-builder", browser, live_server.url, screenshots)
    yield opened
    opened.close()


def _axe(visitor: Visitor) -> list[str]:
    found = []
    for width in (1440, 1024):
        visitor.page.set_viewport_size({"width": width, "height": 900})
        found += [
            f"{visitor.page.url} at {width} px: {v}" for v in serious_violations(visitor.page)
        ]
    return found


def _chart(visitor: Visitor, within: str) -> dict[str, Any]:
    canvas = visitor.page.locator(f"{within} canvas[data-chart]").first
    expect(canvas).to_have_attribute("data-drawn", "1")
    state: dict[str, Any] = canvas.evaluate(_CHART)
    return state


def _add_filter(visitor: Visitor, field: str) -> Any:
    page = visitor.page
    before = page.locator("[data-filter-row]").count()
    visitor.click(page.get_by_role("button", name="+ Add filter"))
    expect(page.locator("[data-filter-row]")).to_have_count(before + 1)
    row = page.locator("[data-filter-row]").nth(before)
    row.get_by_label(re.compile(r"^Field")).select_option(label=field)
    visitor.settle()
    row = page.locator("[data-filter-row]").nth(before)
    expect(row.get_by_label(re.compile(r"^Condition"))).to_be_visible()
    return row


def test_a_report_is_built_by_clicking_saved_shared_and_put_on_a_dashboard(
    live_server: LiveServer, visitor: Visitor
) -> None:
    acme, globex = _companies(live_server)
    visitor.sign_in(acme.email)
    page = visitor.page

    visitor.go("/reports/new")
    assert page.locator("textarea").count() == 0  # no JSON box
    page.get_by_role("textbox", name=re.compile(r"^Name\b")).fill(REPORT)
    page.get_by_label("Records").select_option("opportunity")
    page.get_by_label("Chart").select_option(label="Bar")
    page.get_by_label("Group by").select_option(label="Stage")
    page.get_by_label("Count", exact=True).check()
    page.get_by_label("Sum of my amount", exact=True).check()

    partner = _add_filter(visitor, "Partner company")
    partner.get_by_label(re.compile(r"^Condition")).select_option(label="is")
    visitor.settle()
    partner = page.locator("[data-filter-row]").nth(0)
    partner.get_by_label(re.compile(r"^Value")).select_option(value=globex.company_id)
    close = _add_filter(visitor, "My close date")
    expect(close.get_by_label(re.compile(r"^Condition"))).to_have_value("between")
    close.get_by_label(re.compile(r"^From")).fill("2026-03-01")
    close.get_by_label(re.compile(r"^To")).fill("2026-06-30")

    visitor.click(page.get_by_role("button", name="Preview"))
    preview = page.locator("#report-result")
    expect(preview.locator("table")).to_contain_text("7,000.00")  # 5000 + 1200 + 800
    chart = _chart(visitor, "#report-result")
    assert chart["labels"] == STAGES, chart  # the pipeline's order, not alphabetical
    assert [d["label"] for d in chart["datasets"]] == ["Count", "Sum of my amount"], chart
    assert len(chart["datasets"]) == 2
    count_axis = chart["datasets"][0]["axis"]
    assert chart["ticks"][count_axis], chart
    assert all(float(t).is_integer() for t in chart["ticks"][count_axis]), chart["ticks"]
    assert chart["height"] > 150, chart  # fills its panel: the full width at a fixed height
    assert chart["width"] >= chart["parent"] - 2, chart
    visitor.shots("reports-builder")
    assert _axe(visitor) == []

    # shared with Globex (the existing sharing), then saved
    page.locator("details.report-sharing summary").click()
    page.locator(f"input[name='share_companies'][value='{globex.company_id}']").check()
    visitor.click(page.get_by_role("button", name="Save report"))
    expect(page.get_by_role("heading", level=1)).to_have_text(REPORT)
    assert re.search(r"/reports/[0-9a-f-]{36}$", page.url), page.url
    # the saved filters open as rows again
    expect(page.locator("[data-filter-row]")).to_have_count(2)
    expect(
        page.locator("[data-filter-row]").nth(1).get_by_label(re.compile(r"^From"))
    ).to_have_value("2026-03-01")
    assert _chart(visitor, "main")["labels"] == STAGES
    expect(page.locator(".report-currency-note")).to_have_count(1)
    visitor.shots("reports-report")
    assert _axe(visitor) == []

    # a dashboard with the report twice: as a bar chart, and as a table in a narrow panel
    _new_dashboard(visitor, "Spring QBR", REPORT)
    editor = page.locator("#edit")
    editor.get_by_label("Saved report to add").select_option(label=REPORT)
    editor.get_by_label("Shown as").select_option(label="Table only")
    visitor.click(editor.get_by_role("button", name="Add panel"))
    expect(page.locator("#panels .report-panel")).to_have_count(2)

    expect(page.locator(".report-currency-note")).to_have_count(1)  # once, not per panel
    expect(page.locator("#panels .report-currency-note")).to_have_count(0)
    panel_chart = _chart(visitor, "#panels")
    assert panel_chart["labels"] == STAGES
    assert len(panel_chart["datasets"]) == 2
    for width in (1440, 1024):
        page.set_viewport_size({"width": width, "height": 900})
        cut = page.locator("#panels").evaluate(_CUT_HEADINGS)
        assert cut == [], f"headings cut at {width} px: {cut}"
    visitor.shots("reports-dashboard")
    assert _axe(visitor) == []

    # the QBR deck downloads
    with page.expect_download() as info:
        page.get_by_role("link", name="Download QBR deck (PPTX)").click()
    assert info.value.suggested_filename.endswith(".pptx")
