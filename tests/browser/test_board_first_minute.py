"""A board that works from the first minute, in Chromium: a company that just signed up
creates an opportunity and finds it on the board in the first stage, counted by the chevrons,
with its owner, next step and due date; dragging it to the next stage moves it and the chevrons
follow. A workflow of eight stages scrolls inside the board (the page does not) with sticky
column headings; a chevron scrolls to its column. The joint-solution board opens on the program
workflow, and no stage key reaches the screen."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from coterie.db import utcnow
from tests.browser.axe import serious_violations
from tests.browser.helpers import LiveServer, Visitor
from tests.fixtures.builders import Member, make_company
from tests.fixtures.cosell import API
from tests.fixtures.workflows import move, record, workflow

pytestmark = pytest.mark.xdist_group("browser")

RAW_KEYS = ("partner_approval", "business_review", "propose/qualify", "_unstaged", "lead_in")
EIGHT = ["lead_in", "contacted", "discovery", "demo", "trial", "proposal", "signed", "dropped"]


@pytest.fixture
def visitor(browser: Browser, live_server: LiveServer, screenshots: Path) -> Iterator[Visitor]:
    opened = Visitor("board", browser, live_server.url, screenshots)
    yield opened
    opened.close()


@pytest.fixture
def standard_at_signup(live_server: LiveServer) -> Iterator[None]:
    """Signup as it ships (the tests' settings turn the standard workflow off by default)."""
    settings = live_server.server.config.app.state.settings
    before = settings.standard_workflow_at_signup
    settings.standard_workflow_at_signup = True
    yield
    settings.standard_workflow_at_signup = before


def _day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def _count(page: Page, stage: str) -> Any:
    return page.locator(f".chevrons [data-stage='{stage}'] .chevron-count")


def _no_raw_keys(page: Page) -> None:
    shown = page.locator("main").inner_text()
    for key in RAW_KEYS:
        assert key not in shown, f"{key!r} is on the page: {shown[:3000]}"


def _box(page: Page) -> dict[str, Any]:
    state: dict[str, Any] = page.locator("#kanban-scroll").evaluate(
        """box => ({
            scrollWidth: box.scrollWidth, clientWidth: box.clientWidth,
            scrollLeft: box.scrollLeft, scrollTop: box.scrollTop,
            pageScrollWidth: document.documentElement.scrollWidth,
            pageWidth: document.documentElement.clientWidth,
        })"""
    )
    return state


def test_a_new_company_works_its_first_deal_on_the_board(
    live_server: LiveServer, visitor: Visitor, standard_at_signup: None
) -> None:
    with httpx.Client(base_url=live_server.url, timeout=10) as api:
        client: Any = api
        acme = make_company(client, f"First Minute {uuid.uuid4().hex[:6]}")
        rid = record(
            client, acme, "opportunity", "Helios renewal", amount=48000, owner=acme.user_id
        )
    visitor.sign_in(acme.email)
    page = visitor.go("/board")
    page.set_viewport_size({"width": 1440, "height": 900})
    card = page.locator(f"article[data-record-id='{rid}']")
    expect(page.locator("#cards-qualify").locator(card)).to_have_count(1)
    expect(page.locator("#col-_unstaged")).to_have_count(0)
    expect(_count(page, "qualify")).to_have_text("1")
    expect(_count(page, "develop")).to_have_text("0")
    expect(card).to_contain_text("Owner")
    expect(card).to_contain_text(acme.email.split("@")[0].replace("admin", "Admin "))
    expect(card).to_contain_text("Qualify the need with the customer")
    expect(card).to_contain_text(f"due {_day(utcnow().date() + timedelta(days=7))}")
    expect(card).not_to_contain_text("Overdue")
    # the standard workflow's six columns fit at 1440 px: nothing scrolls sideways
    state = _box(page)
    assert state["scrollWidth"] <= state["clientWidth"] + 1, state
    assert state["pageScrollWidth"] <= state["pageWidth"], state
    assert serious_violations(page) == []
    _no_raw_keys(page)
    visitor.shots("board-first-minute")

    card.drag_to(page.locator("#cards-develop"))
    expect(page.locator("#cards-develop").locator(card)).to_have_count(1)
    expect(_count(page, "qualify")).to_have_text("0")
    expect(_count(page, "develop")).to_have_text("1")
    expect(page.locator("#board-status")).to_contain_text("Moved to Develop")
    visitor.settle()
    _no_raw_keys(page)
    visitor.shots("board-first-minute-moved")


def _lead_workflow(client: Any, who: Member) -> None:
    stages = [{"key": key, "name": key.replace("_", " ").capitalize()} for key in EIGHT[:-2]] + [
        {"key": "signed", "name": "Signed", "category": "won"},
        {"key": "dropped", "name": "Dropped", "category": "lost"},
    ]
    workflow(client, who, kind="lead", name="Partner-sourced leads", stages=stages)


def test_many_stages_scroll_inside_the_board_with_sticky_headings(
    live_server: LiveServer, visitor: Visitor
) -> None:
    with httpx.Client(base_url=live_server.url, timeout=10) as api:
        client: Any = api
        acme = make_company(client, f"Eight Stages {uuid.uuid4().hex[:6]}")
        _lead_workflow(client, acme)
        for n in range(14):
            record(client, acme, "lead", f"Lead {n:02}", stage="lead_in")
        record(client, acme, "lead", "Almost there", stage="dropped")
    visitor.sign_in(acme.email)
    page = visitor.go("/board?kind=lead")
    page.set_viewport_size({"width": 1440, "height": 900})
    expect(page.locator(".kanban-column")).to_have_count(8)
    state = _box(page)
    assert state["scrollWidth"] > state["clientWidth"], state  # the board scrolls ...
    assert state["pageScrollWidth"] <= state["pageWidth"], state  # ... the page does not

    box = page.locator("#kanban-scroll")
    heading = page.locator("#col-lead_in .kanban-head")
    top_before = heading.bounding_box()
    assert top_before is not None
    box.evaluate("b => { b.scrollTop = 500; }")
    after = _box(page)
    assert after["scrollTop"] > 100, after  # the cards scrolled ...
    head = heading.bounding_box()
    frame = box.bounding_box()
    assert head is not None
    assert frame is not None
    assert abs(head["y"] - frame["y"]) <= 2, (head, frame)  # ... the heading stayed on top
    first_card = page.locator("#cards-lead_in article").first.bounding_box()
    assert first_card is not None
    assert first_card["y"] < frame["y"], first_card

    # a chevron scrolls the board to its column, without filtering it
    visitor.click(page.locator("#chevron-dropped"))
    column = page.locator("#col-dropped")
    expect(column).to_have_class(re.compile(r"\bis-target\b"))
    scrolled = _box(page)
    assert scrolled["scrollLeft"] > 0, scrolled
    col = column.bounding_box()
    frame = box.bounding_box()
    assert col is not None
    assert frame is not None
    assert frame["x"] - 1 <= col["x"], (col, frame)
    assert col["x"] + col["width"] <= frame["x"] + frame["width"] + 1, (col, frame)
    expect(page.locator(".kanban-column")).to_have_count(8)
    assert serious_violations(page) == []
    _no_raw_keys(page)
    box.evaluate("b => { b.scrollTop = 0; b.scrollLeft = 0; }")
    visitor.shots("board-eight-stages")


def test_the_joint_solution_board_opens_on_the_program_workflow(
    live_server: LiveServer, visitor: Visitor
) -> None:
    with httpx.Client(base_url=live_server.url, timeout=10) as api:
        client: Any = api
        host = make_company(client, f"Program Host {uuid.uuid4().hex[:6]}")
        program = record(client, host, "program", "Marketplace co-sell")
        wf = workflow(client, host, template="joint_solution", program_id=program)
        ids = []
        for title in ("Lakehouse on the marketplace", "Joint webinar"):
            sid = record(client, host, "solution", title, core={"customer_name": "Acme Bank"})
            attached = client.post(
                f"{API}/solutions/{sid}/workflows/{wf['id']}/attach", headers=host.headers
            )
            assert attached.status_code == 200, attached.text
            move(client, host, "solution", sid, wf["id"], "business_review")
            ids.append(sid)
        move(client, host, "solution", ids[0], wf["id"], "approval")
        asked = move(client, host, "solution", ids[0], wf["id"], "partner_approval")
        assert asked["move"]["status"] == "pending"
    visitor.sign_in(host.email)
    page = visitor.go("/board?kind=solution")
    expect(page.get_by_label("Workflow")).to_have_value(wf["id"])
    expect(page.locator("#col-business_review article")).to_have_count(1)
    expect(page.locator("#col-approval article")).to_have_count(1)
    expect(page.locator("#col-_unstaged")).to_have_count(0)
    expect(page.locator("#col-partner_approval-title")).to_contain_text("Partner Approval")
    assert serious_violations(page) == []
    _no_raw_keys(page)
    visitor.shots("board-joint-solution")

    page = visitor.go("/approvals")
    expect(page.locator("main")).to_contain_text("Approval → Partner Approval")
    assert serious_violations(page) == []
    _no_raw_keys(page)
    visitor.shots("board-approvals")

    page = visitor.go(f"/solutions/{ids[0]}")
    panel = page.locator("#workflow-panel")
    expect(panel).to_contain_text("Approval → Partner Approval")
    expect(panel).to_contain_text("Manager")
    expect(panel).to_contain_text("Waiting")
    shown = panel.inner_text()
    assert not [key for key in RAW_KEYS if key in shown], shown
    visitor.shots("board-solution-panel")
