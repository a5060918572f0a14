"""Ideation in Chromium: a field seller of a partner proposes a joint solution from the
program's page, another partner endorses it, the program's host accepts it into the program's
workflow, and it appears in the solutions portfolio and on the solutions board in the first
stage; a second idea is declined with a reason. Screenshots `ideas-dialog`, `ideas-list`,
`ideas-declined` and `portfolio` at 1440 and 1024 px; axe finds nothing serious; no stage key
reaches the screen."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.axe import serious_violations
from tests.browser.helpers import LiveServer, Visitor
from tests.fixtures.builders import make_colleague, make_company, make_partnership
from tests.fixtures.cosell import join, record
from tests.fixtures.ideas import propose
from tests.fixtures.smtp import Inbox
from tests.fixtures.workflows import workflow

pytestmark = pytest.mark.xdist_group("browser")

RAW_KEYS = ("business_review", "partner_approval", "_unstaged", "proposer_company", "host_only")
TITLE = "Landing zone security pack"


def _no_raw_keys(page: Page) -> None:
    shown = page.locator("main").inner_text()
    for key in RAW_KEYS:
        assert key not in shown, f"{key!r} is on the page"


def test_an_idea_from_the_field_to_the_portfolio(
    browser: Browser,
    live_server: LiveServer,
    screenshots: Path,
    inbox: Inbox,
    visitors: list[Visitor],
) -> None:
    def visitor(name: str) -> Visitor:
        visitors.append(Visitor(name, browser, live_server.url, screenshots))
        return visitors[-1]

    tag = uuid.uuid4().hex[:6]
    with httpx.Client(base_url=live_server.url, timeout=10) as api:
        client: Any = api
        host = make_company(client, f"Nimbus {tag}")
        a = make_company(client, f"Meridian {tag}")
        seller = make_colleague(client, a, "member", inbox=inbox)
        b = make_company(client, f"Bastion {tag}")
        make_partnership(client, host, a)
        make_partnership(client, host, b)
        program = record(client, host, "program", f"Marketplace program {tag}")
        join(client, host, "program", program, a, b)
        workflow(client, host, template="joint_solution", program_id=program)

    # a field seller of Meridian proposes a joint solution with Bastion
    field = visitor("seller")
    field.sign_in(seller.email)
    page = field.go(f"/programs/{program}")
    expect(page.get_by_role("heading", name="Ideas")).to_be_visible()
    expect(page.get_by_text("No ideas yet")).to_be_visible()
    page.get_by_role("button", name="Propose an idea").click()
    dialog = page.get_by_role("dialog", name="Propose an idea")
    expect(dialog).to_be_visible()
    dialog.get_by_label("What is it?").select_option(label="Joint solution")
    dialog.get_by_label("Title").fill(TITLE)
    dialog.get_by_label("The problem it solves").fill(
        "Regulated customers stall on security reviews of new landing zones."
    )
    dialog.get_by_label("Target customers").fill("Banks and insurers in EMEA")
    dialog.get_by_label(f"Bastion {tag}").check()
    dialog.get_by_label("Expected pipeline (USD)").fill("250000")
    field.shots("ideas-dialog")
    field.click(dialog.get_by_role("button", name="Propose the idea"))
    card = page.locator(".idea-card", has_text=TITLE)
    expect(card).to_contain_text("Open")
    expect(card).to_contain_text("USD 250,000.00")
    expect(card).to_contain_text(f"Bastion {tag}")
    expect(page.get_by_role("button", name="Accept into the workflow")).to_have_count(0)

    # Bastion's admin endorses it
    partner = visitor("partner")
    partner.sign_in(b.email)
    page = partner.go(f"/programs/{program}")
    partner.click(page.get_by_role("button", name=f"Endorse “{TITLE}”"))
    card = page.locator(".idea-card", has_text=TITLE)
    expect(card).to_contain_text("1 endorsement")
    expect(card.get_by_role("button", name="Endorsed · withdraw")).to_be_visible()

    # a second idea, to be declined
    with httpx.Client(base_url=live_server.url, timeout=10) as api:
        client = api
        propose(client, seller, program, title="Retail analytics bundle", kind="campaign")

    # the host accepts the first and declines the second with a reason
    lead = visitor("host")
    lead.sign_in(host.email)
    page = lead.go(f"/programs/{program}")
    expect(page.locator(".idea-card")).to_have_count(2)
    assert serious_violations(page) == []
    _no_raw_keys(page)
    lead.shots("ideas-list")
    card = page.locator(".idea-card", has_text=TITLE)
    lead.click(card.get_by_role("button", name="Accept into the workflow"))
    accepted = page.locator(".idea-card", has_text=TITLE)
    expect(accepted).to_contain_text("Accepted")
    expect(accepted.get_by_role("link", name=f"open “{TITLE}”")).to_be_visible()

    other = page.locator(".idea-card", has_text="Retail analytics bundle")
    other.get_by_role("button", name="Decline…").click()
    decline = page.get_by_role("dialog", name="Decline “Retail analytics bundle”")
    lead.click(decline.get_by_role("button", name="Decline the idea"))
    decline = page.get_by_role("dialog", name="Decline “Retail analytics bundle”")
    expect(decline.get_by_text("This field is required.")).to_be_visible()  # no reason: refused
    decline.get_by_label("Why not? The proposer reads this.").fill("Overlaps the Q3 retail plan.")
    lead.click(decline.get_by_role("button", name="Decline the idea"))
    declined = page.locator(".idea-card", has_text="Retail analytics bundle")
    expect(declined).to_contain_text("Declined because: Overlaps the Q3 retail plan.")
    lead.shots("ideas-declined")

    # the solution is in the portfolio and on the board, in the first stage
    page = lead.go("/solutions/portfolio")
    row = page.locator("tr", has_text=TITLE)
    expect(row).to_contain_text("Business Review")
    expect(row).to_contain_text(f"Marketplace program {tag}")
    expect(row).to_contain_text("Review the business case")
    expect(page.locator(".chevrons")).to_contain_text("Business Review")
    assert serious_violations(page) == []
    _no_raw_keys(page)
    lead.shots("portfolio")
    lead.click(page.get_by_role("link", name="Open the board"))
    expect(page.locator("#col-business_review")).to_contain_text(TITLE)

    # the seller sees the decline and its reason
    page = field.go("/notifications")
    expect(page.locator("main")).to_contain_text("declined your idea")
    expect(page.locator("main")).to_contain_text("Overlaps the Q3 retail plan.")
