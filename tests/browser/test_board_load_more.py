"""The board's "Load more" in Chromium: htmx appends a column's next cards, amounts formatted,
to the column it belongs to (it answered 500 before: the fragment lacked the money helper)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.browser.helpers import LiveServer, Visitor
from tests.fixtures.builders import make_company
from tests.fixtures.workflows import record, workflow

pytestmark = pytest.mark.xdist_group("browser")

CARDS = 23  # the board shows 20 per column


@pytest.fixture
def visitor(browser: Browser, live_server: LiveServer, screenshots: Path) -> Iterator[Visitor]:
    opened = Visitor("board", browser, live_server.url, screenshots)
    yield opened
    opened.close()


def test_load_more_appends_the_next_cards_of_a_column(
    live_server: LiveServer, visitor: Visitor
) -> None:
    with httpx.Client(base_url=live_server.url, timeout=10) as api:
        client: Any = api
        acme = make_company(client, f"Board Acme {uuid.uuid4().hex[:6]}")
        workflow(client, acme, template="standard_pipeline")
        for n in range(CARDS):
            record(client, acme, "opportunity", f"Deal {n:02}", stage="propose", amount=1000 + n)
    visitor.sign_in(acme.email)
    page = visitor.go("/board?kind=opportunity&stage=propose")
    column = page.locator("#cards-propose article.deal-card")
    expect(column).to_have_count(20)
    visitor.click(page.get_by_role("button", name="Load more in Propose"))
    expect(column).to_have_count(CARDS)
    expect(page.get_by_role("button", name="Load more in Propose")).to_have_count(0)
    last = page.locator("#cards-propose article.deal-card").last
    expect(last).to_contain_text("USD 1,0")
    visitor.shot("board-load-more")
