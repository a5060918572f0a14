"""Forms per kind in Chromium: "New program" from Get started opens its dialog at once (the first
field focused), a missing name is explained inside the dialog, the program is created; "New
plan" on the program page comes with the program chosen, takes a goal, and the program page
shows the plan's goal with its attainment and status; a new opportunity's stage is a select of
the workflow's stages. axe finds no serious violation on any dialog nor the program page, and
every step leaves screenshots at 1440 and 1024 px (`forms-...`).

Dates are relative to today (the program runs from 60 days ago to 120 days from now), so the
standing shown is the same whenever the test runs.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Locator, expect

from tests.browser.axe import serious_violations
from tests.browser.helpers import LiveServer, Visitor
from tests.fixtures.builders import Member, make_company, make_partnership
from tests.fixtures.cosell import API, record

pytestmark = pytest.mark.xdist_group("browser")

TODAY = date.today()
START = TODAY - timedelta(days=60)
END = TODAY + timedelta(days=120)


def _day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


@pytest.fixture
def visitor(browser: Browser, live_server: LiveServer, screenshots: Path) -> Iterator[Visitor]:
    opened = Visitor("forms", browser, live_server.url, screenshots)
    yield opened
    opened.close()


def _label(dialog: Locator, text: str) -> Locator:
    """A control in the dialog by the start of its label (labels also carry a lock)."""
    return dialog.get_by_label(re.compile(rf"^{re.escape(text)}(?! currency)(\s|\*|$)"))


def _axe(visitor: Visitor) -> list[str]:
    found = []
    for width in (1440, 1024):
        visitor.page.set_viewport_size({"width": width, "height": 900})
        found += [f"at {width} px: {line}" for line in serious_violations(visitor.page)]
    return found


def _shots_of_dialog(visitor: Visitor, name: str) -> None:
    """Screenshots with the modal dialog open (settle() would not wait on a closed one)."""
    for width in (1440, 1024):
        visitor.page.set_viewport_size({"width": width, "height": 900})
        visitor.page.screenshot(path=str(visitor.screenshots / f"{name}-{width}.png"))
    visitor.page.set_viewport_size({"width": 1280, "height": 900})


def test_new_program_plan_and_opportunity_dialogs(
    live_server: LiveServer, visitor: Visitor
) -> None:
    suffix = uuid.uuid4().hex[:6]
    with httpx.Client(base_url=live_server.url, timeout=10) as api:
        client: Any = api
        host: Member = make_company(client, f"Forms Host {suffix}")
        partner_label = f"Forms Partner {suffix}"
        partner = make_company(client, partner_label)
        make_partnership(client, host, partner)
        made = client.post(
            f"{API}/workflows", json={"template": "standard_pipeline"}, headers=host.headers
        )
        assert made.status_code == 201, made.text
    visitor.sign_in(host.email)
    page = visitor.page

    # Get started: "New program" opens the dialog at once, its first field focused
    visitor.go("/")
    visitor.click(page.get_by_role("link", name=re.compile(r"^New program")))
    dialog = page.locator("dialog#new-record")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", name="New partner program")).to_be_visible()
    expect(_label(dialog, "Program name")).to_be_focused()
    for absent in ("Forecast category", "Amount", "Motion", "Customer", "Close date"):
        expect(dialog.get_by_text(absent, exact=False)).to_have_count(0)
    assert _axe(visitor) == []
    _shots_of_dialog(visitor, "forms-program-dialog")

    # no name: the error shows inside the dialog, what was typed stays
    _label(dialog, "Description").fill("Joint go-to-market for the cloud marketplace.")
    visitor.click(dialog.get_by_role("button", name="Create partner program"))
    expect(dialog).to_be_visible()
    expect(dialog.locator(".field-error")).to_have_text(["This field is required."])
    expect(_label(dialog, "Description")).to_have_value(
        "Joint go-to-market for the cloud marketplace."
    )
    assert _axe(visitor) == []
    _shots_of_dialog(visitor, "forms-program-dialog-error")

    program = f"Cloud marketplace program {suffix}"
    _label(dialog, "Program name").fill(program)
    _label(dialog, "Program type").select_option(label="Marketplace")
    _label(dialog, "Region").select_option(label="EMEA")
    _label(dialog, "Starts on").fill(START.isoformat())
    _label(dialog, "Ends on").fill(END.isoformat())
    _label(dialog, "Status").select_option(label="Active")
    dialog.get_by_role("button", name="Create partner program").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(program)
    expect(visitor.flash()).to_contain_text("created")
    visitor.settle()
    program_url = page.url
    panel = page.locator("#cosell-panel")
    expect(panel).to_contain_text("Marketplace")

    # "New plan" on the program page: the program is chosen already
    visitor.click(panel.get_by_role("button", name="New plan"))
    plan_dialog = page.locator("dialog#new-plan")
    expect(plan_dialog).to_be_visible()
    expect(_label(plan_dialog, "Program")).to_have_value(program_url.rsplit("/", 1)[1])
    expect(plan_dialog.get_by_text("Forecast category")).to_have_count(0)
    plan = f"EMEA marketplace plan {suffix}"
    _label(plan_dialog, "Plan name").fill(plan)
    _label(plan_dialog, "Period start").fill(START.isoformat())
    _label(plan_dialog, "Period end").fill(END.isoformat())
    _label(plan_dialog, "Partner to invite").select_option(label=partner_label)
    _label(plan_dialog, "Metric").select_option(label="Number of opportunities")
    _label(plan_dialog, "Target").fill("2")
    assert _axe(visitor) == []
    _shots_of_dialog(visitor, "forms-plan-dialog")
    plan_dialog.get_by_role("button", name="Create joint sales plan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(plan)
    plan_id = page.url.rsplit("/", 1)[1]

    # one opportunity closing in the period goes on the plan: 1 of 2 is 50%, at pace
    with httpx.Client(base_url=live_server.url, timeout=10) as api:
        client = api
        deal = record(client, host, "opportunity", "Marketplace deal", close_date=TODAY.isoformat())
        linked = client.post(
            f"{API}/plans/{plan_id}/records",
            json={"record_id": deal, "role": "pipeline"},
            headers=host.headers,
        )
        assert linked.status_code == 201, linked.text

    visitor.go(program_url)
    card = page.locator("article.plan-card", has_text=plan)
    expect(card).to_contain_text(partner_label)
    expect(card).to_contain_text(f"{_day(START)} \u2013 {_day(END)}")
    goal = card.locator("tbody tr")
    expect(goal).to_have_count(1)
    expect(goal).to_contain_text("Number of opportunities")
    expect(goal).to_contain_text("50.0%")
    expect(goal).to_contain_text("On track")
    expect(card.locator(".plan-standing")).to_have_text("On track")
    expect(goal.locator("progress")).to_have_attribute("value", "50.0")
    assert _axe(visitor) == []
    visitor.shots("forms-program-page")

    # a new opportunity: the stage is a select of the workflow's stages, by label
    visitor.go("/opportunities")
    visitor.page.get_by_role("link", name="New opportunity").click()
    opportunity = page.locator("dialog#new-record")
    expect(opportunity).to_be_visible()
    stage = _label(opportunity, "Stage")
    expect(stage).to_have_js_property("tagName", "SELECT")
    labels = stage.locator("option").all_inner_texts()
    assert labels[:3] == ["Not set", "Qualify", "Develop"], labels
    assert "Closed won" in labels
    for present in ("Amount", "Forecast category", "Close date", "Motion"):
        expect(_label(opportunity, present)).to_have_count(1)
    assert _axe(visitor) == []
    _shots_of_dialog(visitor, "forms-opportunity-dialog")
    _label(opportunity, "Title").fill("Stage from the workflow")
    _label(opportunity, "Amount").fill("12500")
    stage.select_option(label="Develop")
    opportunity.get_by_role("button", name="Create opportunity").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Stage from the workflow")
    expect(page.locator("#my-space")).to_contain_text("Develop")
