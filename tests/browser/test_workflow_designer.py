"""The workflow designer in Chromium: a new company's admin designs a program workflow for
opportunities without typing any JSON. Stages are added, one renamed, one dragged into place and
one moved with the keyboard alternative; a won and a lost stage are marked; an entry criterion
is chosen from the template's fields, a step gets a due offset, a partner company approves moves
into the won stage; the board preview follows each change. Saved, reopened as saved, exported as
JSON, shown in that order on the board; two stages with one name are refused inline and nothing
is saved. axe finds no serious violation on the designer."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.axe import serious_violations
from tests.browser.helpers import LiveServer, Visitor
from tests.fixtures.builders import Member, make_company, make_partnership
from tests.fixtures.cosell import API
from tests.fixtures.workflows import join, record

pytestmark = pytest.mark.xdist_group("browser")

ORDER = ["Qualify", "Proposal sent", "Negotiation", "Won", "Lost"]


@pytest.fixture
def visitor(browser: Browser, live_server: LiveServer, screenshots: Path) -> Iterator[Visitor]:
    opened = Visitor("designer", browser, live_server.url, screenshots)
    yield opened
    opened.close()


def _stage_at(page: Page, index: int) -> Locator:
    return page.locator(".wd-stage").nth(index)


def _labels(page: Page) -> list[str]:
    return [i.input_value() for i in page.locator(".wd-stage input[data-k='label']").all()]


def _preview(page: Page) -> Locator:
    return page.locator("[data-preview] .wd-col-name")


def _add_stage(page: Page, name: str, *, enter: bool) -> None:
    field = page.get_by_label("New stage", exact=True)
    field.fill(name)
    if enter:
        field.press("Enter")
    else:
        page.get_by_role("button", name="Add stage").click()


def _open_details(stage: Locator) -> None:
    details = stage.locator("details.wd-stage-more")
    if details.get_attribute("open") is None:
        stage.locator("summary").click()


def _drag(page: Page, source: Locator, target: Locator) -> None:
    """Drag `source` by its handle onto the upper part of `target` with the mouse, as a person
    does (SortableJS follows the pointer: a press, a few moves, a release)."""
    target.scroll_into_view_if_needed()  # the mouse only reaches what is on screen
    source.locator(".wd-handle").scroll_into_view_if_needed()
    handle = source.locator(".wd-handle").bounding_box()
    box = target.bounding_box()
    assert handle is not None
    assert box is not None
    x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y - 8, steps=4)
    page.wait_for_timeout(100)
    for fraction in (0.75, 0.5, 0.3, 0.15):
        page.mouse.move(x, box["y"] + box["height"] * fraction, steps=6)
        page.wait_for_timeout(60)
    page.mouse.up()


def _no_violations(page: Page) -> None:
    assert serious_violations(page) == []


def _program_of_partners(api: Any) -> tuple[Member, Member, str, str]:
    """A host, its partner (and the partner's name), and a program of the host's they are on."""
    suffix = uuid.uuid4().hex[:6]
    host = make_company(api, f"Designer Host {suffix}")
    partner_name = f"Designer Partner {suffix}"
    partner = make_company(api, partner_name)
    make_partnership(api, host, partner)
    program = record(api, host, "program", f"Cloud program {suffix}")
    join(api, host, "program", program, partner)
    return host, partner, partner_name, program


def test_an_admin_designs_a_workflow_without_json(
    browser: Browser, live_server: LiveServer, visitor: Visitor, screenshots: Path
) -> None:
    with httpx.Client(base_url=live_server.url, timeout=10) as api:
        client: Any = api
        host, partner, partner_name, program = _program_of_partners(client)
        visitor.sign_in(host.email)
        page = visitor.go("/settings/workflows")
        _no_violations(page)
        page.get_by_label("For records of kind").first.select_option(label="Opportunity")
        page.locator("#design-program").select_option(value=program)
        visitor.click(page.get_by_role("button", name="Open the designer"))
        expect(page.get_by_role("heading", level=1)).to_have_text("New opportunity workflow")
        expect(page.locator("main textarea")).to_have_count(0)
        expect(page.locator("[data-preview]")).to_contain_text("No stages yet")
        _no_violations(page)
        visitor.shots("designer-empty")

        page.get_by_label("Name", exact=True).fill("Cloud deals")
        for n, name in enumerate(["Qualify", "Negotiation", "Proposal", "Lost", "Won"]):
            _add_stage(page, name, enter=n % 2 == 0)
        assert _labels(page) == ["Qualify", "Negotiation", "Proposal", "Lost", "Won"]
        expect(_preview(page)).to_have_text(["Qualify", "Negotiation", "Proposal", "Lost", "Won"])

        # renamed: the preview follows as one types
        _stage_at(page, 2).get_by_label("Stage name").fill("Proposal sent")
        expect(_preview(page).nth(2)).to_have_text("Proposal sent")
        # dragged by its handle above Negotiation
        _drag(page, _stage_at(page, 2), _stage_at(page, 1))
        expect(_preview(page)).to_have_text(
            ["Qualify", "Proposal sent", "Negotiation", "Lost", "Won"]
        )
        # the keyboard alternative: Won moves up one, focus stays on its button
        up = page.get_by_role("button", name="Move Won up")
        up.focus()
        page.keyboard.press("Enter")
        expect(_preview(page)).to_have_text(ORDER)
        assert _labels(page) == ORDER
        expect(page.locator("[data-announce]")).to_have_text("Won is now stage 4 of 5.")

        # categories: the preview colours the columns
        _stage_at(page, 3).get_by_label("Category").select_option(label="Won")
        _stage_at(page, 4).get_by_label("Category").select_option(label="Lost")
        expect(page.locator("[data-preview] .wd-col-won .wd-col-name")).to_have_text(["Won"])
        expect(page.locator("[data-preview] .wd-col-lost .wd-col-name")).to_have_text(["Lost"])

        # an entry criterion chosen by the template field's label
        proposal = _stage_at(page, 1)
        _open_details(proposal)
        proposal.get_by_role("button", name="Add a criterion").click()
        proposal.get_by_label("Field").select_option(label="Amount")
        # a step with a due offset
        qualify = _stage_at(page, 0)
        _open_details(qualify)
        qualify.get_by_role("button", name="Add a step").click()
        qualify.get_by_label("Task").fill("Call the customer")
        qualify.get_by_label("Owner").select_option(label="The record's owner")
        qualify.get_by_label("Due after (days)").fill("3")
        # the partner approves moves into Won
        won = _stage_at(page, 3)
        _open_details(won)
        won.get_by_role("button", name="Add an approval").click()
        won.get_by_label("Company").select_option(label=partner_name)
        won.get_by_label("Who decides").select_option(label="A manager or admin")
        expect(won.locator("[data-counts]")).to_have_text("(1 approval)")
        _no_violations(page)
        visitor.shots("designer-filled")

        visitor.click(page.get_by_role("button", name="Create workflow"))
        expect(visitor.flash()).to_contain_text("Workflow “Cloud deals” created.")
        workflow_url = page.url
        workflow_id = workflow_url.rstrip("/").rsplit("/", 1)[-1]

        # reopened: as saved, with labels (never keys) in the selects
        visitor.go(workflow_url)
        assert _labels(page) == ORDER
        expect(_preview(page)).to_have_text(ORDER)
        expect(_stage_at(page, 1).get_by_label("Field")).to_have_value("mine.amount")
        expect(_stage_at(page, 1).get_by_label("Field").locator("option:checked")).to_have_text(
            "Amount"
        )
        expect(_stage_at(page, 0).get_by_label("Due after (days)")).to_have_value("3")
        expect(_stage_at(page, 3).get_by_label("Company")).to_have_value(partner.company_id)
        expect(_stage_at(page, 3).get_by_label("Category")).to_have_value("won")
        _no_violations(page)

        # the JSON export
        with page.expect_download() as info:
            page.get_by_role("link", name="Download JSON").click()
        exported = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
        assert exported["name"] == "Cloud deals"
        assert exported["kind"] == "opportunity"
        assert [s["name"] for s in exported["stages"]] == ORDER
        assert [s["category"] for s in exported["stages"]] == [
            "open",
            "open",
            "open",
            "won",
            "lost",
        ]
        assert exported["stages"][1]["required_fields"] == ["mine.amount"]
        assert exported["stages"][0]["steps"] == [
            {"title": "Call the customer", "owner": "record_owner", "due_in_days": 3}
        ]
        into_won = [t for t in exported["transitions"] if t["to"] == "won"]
        assert into_won
        assert all(
            t["approvals"] == [{"company": partner.company_id, "role": "manager"}] for t in into_won
        )

        # the board shows the stages in that order
        visitor.go(f"/board?kind=opportunity&workflow_id={workflow_id}")
        keys = [
            link.get_attribute("data-stage")
            for link in page.locator(".chevrons [data-stage]").all()
        ]
        assert keys == ["qualify", "proposal_sent", "negotiation", "won", "lost"]

        # two stages with one name: refused next to the stage, nothing saved
        visitor.go(workflow_url)
        _stage_at(page, 2).get_by_label("Stage name").fill("qualify")
        visitor.click(page.get_by_role("button", name="Save workflow"))
        error = _stage_at(page, 2).locator(".field-error")
        expect(error).to_have_text("Stage 1 is already called “Qualify”.")
        expect(_stage_at(page, 2).get_by_label("Stage name")).to_have_attribute(
            "aria-invalid", "true"
        )
        _no_violations(page)
        visitor.shots("designer-error")
        stored = client.get(f"{API}/workflows/{workflow_id}", headers=host.headers).json()
        assert [s["name"] for s in stored["stages"]] == ORDER
        assert stored["version"] == 1

        # only the moves ticked: forward moves are offered, one is unticked, saved as such
        _stage_at(page, 2).get_by_label("Stage name").fill("Negotiation")
        expect(error).to_have_count(0)  # the message went with the name it was about
        page.get_by_label("Only the moves I tick").check()
        forward = page.get_by_role("checkbox", name="From Qualify to Proposal sent", exact=True)
        expect(forward).to_be_checked()
        expect(
            page.get_by_role("checkbox", name="From Won to Qualify", exact=True)
        ).not_to_be_checked()
        page.get_by_role("checkbox", name="From Qualify to Negotiation", exact=True).uncheck()
        _no_violations(page)
        visitor.shots("designer-moves")
        visitor.click(page.get_by_role("button", name="Save workflow"))
        expect(visitor.flash()).to_contain_text("Workflow saved.")
        stored = client.get(f"{API}/workflows/{workflow_id}", headers=host.headers).json()
        pairs = {(t["from"], t["to"]) for t in stored["transitions"]}
        assert ("qualify", "proposal_sent") in pairs
        assert ("*", "lost") in pairs
        assert ("qualify", "negotiation") not in pairs
        assert ("won", "qualify") not in pairs
        assert all(t["approvals"] for t in stored["transitions"] if t["to"] == "won")
        visitor.go(workflow_url)
        expect(page.get_by_label("Only the moves I tick")).to_be_checked()
        expect(forward).to_be_checked()
        expect(
            page.get_by_role("checkbox", name="From Qualify to Negotiation", exact=True)
        ).not_to_be_checked()

        # the partner on the program reads it, with labels, and cannot edit it
        reader = Visitor("designer-partner", browser, live_server.url, screenshots)
        try:
            reader.sign_in(partner.email)
            shown = reader.go(workflow_url)
            expect(shown.get_by_role("heading", level=1)).to_have_text("Cloud deals")
            expect(shown.locator("[data-preview] .wd-col-name")).to_have_text(ORDER)
            expect(shown.locator("main table")).to_contain_text("Amount")
            expect(shown.locator("main table")).to_contain_text(partner_name)
            expect(shown.locator("main table")).not_to_contain_text("mine.amount")
            expect(shown.get_by_role("button", name="Save workflow")).to_have_count(0)
            _no_violations(shown)
            reader.shots("designer-readonly")
        finally:
            reader.close()
