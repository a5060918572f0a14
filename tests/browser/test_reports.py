"""Reports in a real browser: a chart drawn by Chart.js in Chromium, its PNG downloaded.

Two companies of their own, made through the API of the live server (Reporting Acme and its
partner Reporting Globex), each with a few opportunities. Acme keeps its amount private and puts
the canary 7,373,737 on the opportunity it shares with Globex. Acme builds "count and sum of my
amount by stage" as a bar chart with the builder, previews it (the canvas is drawn), saves it,
downloads its PNG and puts it on a dashboard. Globex opens the report Acme shared: the chart is
drawn over Globex's own amounts, and no page, fragment or chart data it receives holds the canary.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Download, expect

from tests.browser.helpers import LiveServer, Visitor, amount_patterns
from tests.fixtures.builders import Member, make_company, make_partnership
from tests.fixtures.cosell import fill, join, record, template

pytestmark = pytest.mark.xdist_group("browser")

CANARY = 7373737
OTHER_AMOUNTS = 3500  # Acme's two opportunities won
# the canary alone (Acme's "develop" bar) and within Acme's total
CANARY_PATTERNS = [*amount_patterns(str(CANARY)), *amount_patterns(str(CANARY + OTHER_AMOUNTS))]
REPORT = "Pipeline by stage"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# what Chromium drew on a canvas: its size, the Chart.js instance, and whether any pixel is set
_CANVAS_STATE = """
(canvas) => {
  const chart = window.Chart && window.Chart.getChart(canvas);
  const blank = document.createElement("canvas");
  blank.width = canvas.width;
  blank.height = canvas.height;
  return {
    width: canvas.width,
    height: canvas.height,
    chart: chart ? chart.config.type : null,
    bars: chart ? chart.data.datasets.map((set) => set.data.length) : [],
    drawn: canvas.toDataURL("image/png") !== blank.toDataURL("image/png"),
  };
}
"""


def report_companies(live_server: LiveServer, prefix: str) -> tuple[Member, Member]:
    """Acme (private amounts; the canary on the deal it shares with Globex) and Globex, whose
    own two deals (55 and 45) are both in "propose", a stage none of Acme's deals is in; their
    names start with `prefix` and end with a random suffix."""
    suffix = uuid.uuid4().hex[:6]
    with httpx.Client(base_url=live_server.url, timeout=10) as api:
        client: Any = api  # the builders take any client that speaks httpx
        acme = make_company(client, f"{prefix} Acme {suffix}")
        globex = make_company(client, f"{prefix} Globex {suffix}")
        make_partnership(client, acme, globex)
        template(client, acme, "opportunity", amount="private")
        template(client, globex, "opportunity", amount="private")
        joint = record(client, acme, "opportunity", "Joint deal", amount=CANARY, stage="develop")
        join(client, acme, "opportunity", joint, globex)
        fill(client, globex, "opportunity", joint, amount=55, stage="propose")
        record(client, acme, "opportunity", "Second deal", amount=1000, stage="won")
        record(client, acme, "opportunity", "Third deal", amount=2500, stage="won")
        record(client, globex, "opportunity", "Globex alone", amount=45, stage="propose")
    return acme, globex


@pytest.fixture(scope="module")
def companies(live_server: LiveServer) -> tuple[Member, Member]:
    """Acme (private amounts, the canary on the shared opportunity) and its partner Globex."""
    return report_companies(live_server, "Reporting")


def _new_dashboard(visitor: Visitor, name: str, *reports: str) -> None:
    """From the reports page: a new dashboard `name` holding the viewer's saved `reports`."""
    visitor.go("/reports")
    page = visitor.page
    page.locator("details.report-new-dashboard summary").click()
    form = page.locator("details.report-new-dashboard form")
    form.get_by_role("textbox", name=re.compile(r"^Name\b")).fill(name)
    for report in reports:
        form.get_by_label(report, exact=True).check()
    visitor.click(form.get_by_role("button", name="Save dashboard"))
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def _canvas(visitor: Visitor, within: str = "main") -> dict[str, Any]:
    canvas = visitor.page.locator(f"{within} canvas[data-chart]").first
    expect(canvas).to_have_attribute("data-drawn", "1")
    state: dict[str, Any] = canvas.evaluate(_CANVAS_STATE)
    return state


def _assert_drawn(state: dict[str, Any]) -> None:
    """A Chart.js bar chart on a canvas of some size, with pixels drawn."""
    assert state["width"] > 0, state
    assert state["height"] > 0, state
    assert state["chart"] == "bar", state
    assert state["drawn"], f"the canvas is blank: {state}"


def _download_png(visitor: Visitor) -> tuple[Download, bytes]:
    with visitor.page.expect_download() as info:
        visitor.page.get_by_role("button", name=f"Download PNG of {REPORT}").first.click()
    download = info.value
    path = download.path()
    assert path is not None
    return download, Path(path).read_bytes()


def _png_size(png: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (it follows the signature)."""
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def test_a_report_is_built_previewed_saved_downloaded_as_png_and_put_on_a_dashboard(
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

    # the builder: count and sum of my amount by stage, as a bar chart, shared with Globex
    a.go("/reports/new")
    page = a.page
    page.get_by_role("textbox", name=re.compile(r"^Name\b")).fill(REPORT)
    page.get_by_label("Records").select_option("opportunity")
    page.get_by_label("Chart").select_option(label="Bar")
    page.get_by_label("Group by").select_option(label="Stage")
    page.get_by_label("Count", exact=True).check()
    page.get_by_label("Sum of my amount", exact=True).check()
    page.locator("details.report-sharing summary").click()
    page.locator(f"input[name='share_companies'][value='{globex.company_id}']").check()
    a.click(page.get_by_role("button", name="Preview"))
    preview = page.locator("#report-result")
    expect(preview.locator("table")).to_contain_text("7,373,737.00")  # Acme sees its own
    expect(preview.locator("table")).to_contain_text("7,377,237.00")
    state = _canvas(a, "#report-result")
    _assert_drawn(state)
    assert state["bars"] == [2, 2], state  # develop and won, two measures
    a.shot("30-report-builder")

    # saved: the report page draws it again, and its PNG downloads under the report's name
    a.click(page.get_by_role("button", name="Save report"))
    expect(page.get_by_role("heading", level=1)).to_have_text(REPORT)
    report_url = page.url
    assert re.search(r"/reports/[0-9a-f-]{36}$", report_url), report_url
    state = _canvas(a)
    _assert_drawn(state)
    download, png = _download_png(a)
    assert download.suggested_filename == f"{REPORT}.png"
    assert png[:8] == PNG_SIGNATURE
    assert _png_size(png) == (state["width"], state["height"])  # the canvas, as drawn
    assert len(png) > 1000, len(png)
    # the canary patterns do find Acme's amounts as its own pages write them
    assert all(p.search(page.content()) for p in CANARY_PATTERNS)

    # a dashboard with that report
    _new_dashboard(a, "Weekly pipeline", REPORT)
    state = _canvas(a, "#panels")
    _assert_drawn(state)
    a.shot("31-dashboard")

    # Globex opens the shared report: its own numbers, never Acme's canary
    b.sign_in(globex.email)
    b.go("/reports")
    b.click(b.page.get_by_role("link", name=REPORT))
    expect(b.page.get_by_role("heading", level=1)).to_have_text(REPORT)
    main = b.page.get_by_role("main")
    expect(main).to_contain_text("Shared by Reporting Acme")
    table = main.locator("table.report-table")
    expect(table).to_contain_text("Propose")
    expect(table).to_contain_text("100.00")  # 55 + 45: Globex's own amounts
    state = _canvas(b)
    _assert_drawn(state)
    chart_data = b.page.locator("canvas[data-chart]").first.get_attribute("data-chart") or ""
    assert json.loads(chart_data)["labels"] == ["Propose"], chart_data
    download, png = _download_png(b)
    assert download.suggested_filename == f"{REPORT}.png"
    assert png[:8] == PNG_SIGNATURE
    b.keep_dom()
    assert b.recorder is not None
    b.recorder.add("chart data", chart_data)
    assert any(REPORT in d.text for d in b.recorder.documents if d.source.startswith("response"))
    leaks = b.recorder.leaks(CANARY_PATTERNS)
    assert not leaks, "Acme's private amount reached Globex:\n" + "\n".join(leaks[:5])
