"""The board's drag-and-drop contract and the chevron filter, driven like the browser's script:
a dropped card posts the "Move to…" form with the column's stage and the card's version as
If-Match; the answer is the re-rendered board plus a message for the live region next to it.
A refused drop (stale version, entry criteria, approvals) leaves the card where it stands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.fixtures.builders import make_company
from tests.fixtures.workflows import Member, move, record, states, workflow
from tests.web.conftest import Browser
from tests.web.html import Element, Page, parse
from tests.web.test_network_pages import signed_in
from tests.web.test_record_pages import htmx


def _column_of(page: Page, record_id: str) -> str:
    for column in page.root.iter("section"):
        if "kanban-column" not in column.classes():
            continue
        if column.find("article", **{"data-record-id": record_id}) is not None:
            return column.attrs["data-stage"]
    raise AssertionError(f"card {record_id} is on no column")


def _card(page: Page, record_id: str) -> Element:
    card = page.root.find("article", **{"data-record-id": record_id})
    assert card is not None
    return card


def _counts(page: Page) -> dict[str, str]:
    nav = page.root.find("nav", class_="chevrons")
    assert nav is not None
    found = {}
    for link in nav.iter("a"):
        count = next(e for e in link.iter("span") if "chevron-count" in e.classes())
        found[link.attrs["data-stage"]] = count.text
    return found


def _status(html: str) -> Element:
    """The live region's new content, sent out of band next to the board."""
    region = parse(html).root.by_id("board-status")
    assert region is not None, html[:2000]
    assert region.attrs["hx-swap-oob"] == "innerHTML"
    return region


def _drop(
    browser: Browser, page: Page, record_id: str, stage: str, version: str | None = None
) -> Any:
    """What pipeline.js sends when the card is dropped on the column of `stage`."""
    card = _card(page, record_id)
    form = next(f for f in page.forms("/board/move") if card in f.element.ancestors())
    headers = htmx(browser, "/board") | {"HX-Target": "board"}
    headers["If-Match"] = f'"{version if version is not None else card.attrs["data-version"]}"'
    return browser.client.post(
        "/board/move", data=dict(form.fields()) | {"to": stage}, headers=headers
    )


def _setup(client: TestClient, new_browser: Callable[[], Browser]) -> tuple[Member, str, Browser]:
    acme = make_company(client, "Acme")
    wf = workflow(client, acme, template="standard_pipeline")
    return acme, wf["id"], signed_in(new_browser, acme)


def test_the_board_carries_the_drag_and_drop_contract(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme, _, browser = _setup(client, new_browser)
    rid = record(client, acme, "opportunity", "Drag me", stage="qualify", amount=10)
    page = browser.page("/board")
    scripts = {s.attrs.get("src", "").split("?")[0] for s in page.root.iter("script")}
    assert {"/static/vendor/sortable.min.js", "/static/pipeline.js"} <= scripts
    status = page.root.by_id("board-status")
    assert status is not None
    assert status.attrs["aria-live"] == "polite"
    column = page.root.by_id("col-qualify")
    assert column is not None
    assert column.attrs["data-stage"] == "qualify"
    cards = column.find("div", class_="kanban-cards")
    assert cards is not None
    assert cards.attrs["data-dnd"] == "column"
    # every record is on a stage: no "Not staged" column (see test_standard_workflow.py)
    assert page.root.by_id("cards-_unstaged") is None
    card = _card(page, rid)
    assert card.attrs["data-version"] == "0"
    # the keyboard alternative stays on every card
    assert card.find("select", name="to") is not None
    assert "Drag a card to another column" in page.main_text


def test_cards_leave_the_not_staged_column_and_none_are_dropped_in(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    rid = record(client, acme, "opportunity", "From before the workflow")  # no stage
    workflow(client, acme, template="standard_pipeline")
    page = signed_in(new_browser, acme).page("/board")
    unstaged = page.root.by_id("cards-_unstaged")
    assert unstaged is not None
    assert unstaged.attrs["data-dnd"] == "source"
    assert unstaged.find("article", **{"data-record-id": rid}) is not None


def test_a_dropped_card_moves_and_the_chevrons_follow(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme, wf_id, browser = _setup(client, new_browser)
    rid = record(client, acme, "opportunity", "Drag me", stage="qualify", amount=10)
    page = browser.page("/board")
    assert _counts(page)["qualify"] == "1"

    moved = _drop(browser, page, rid, "develop")
    assert moved.status_code == 200, moved.text[:2000]
    board = parse(moved.text)
    assert _column_of(board, rid) == "develop"
    assert _counts(board)["qualify"] == "0"
    assert _counts(board)["develop"] == "1"
    assert "Moved to Develop: “Drag me”." in _status(moved.text).text
    assert _card(board, rid).attrs["data-version"] == "1"
    assert states(client, acme, "opportunity", rid)[wf_id]["stage"]["key"] == "develop"


def test_a_drop_with_a_stale_version_says_so_and_leaves_the_card(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme, wf_id, browser = _setup(client, new_browser)
    rid = record(client, acme, "opportunity", "Raced deal", stage="qualify", amount=10)
    page = browser.page("/board")  # read at version 0
    move(client, acme, "opportunity", rid, wf_id, "develop")  # a colleague moves it meanwhile

    stale = _drop(browser, page, rid, "propose")
    assert stale.status_code == 409
    message = _status(stale.text).text
    assert "Someone moved this record meanwhile" in message
    assert "the board was refreshed" in message
    board = parse(stale.text)
    assert _column_of(board, rid) == "develop"  # where it stands now, not where it was dropped
    assert "has-error" in _card(board, rid).classes()
    assert states(client, acme, "opportunity", rid)[wf_id]["stage"]["key"] == "develop"

    # the If-Match header is what counts: a fresh form with a stale header is refused too
    fresh = browser.page("/board")
    refused = _drop(browser, fresh, rid, "propose", version="0")
    assert refused.status_code == 409
    assert "Someone moved this record meanwhile" in _status(refused.text).text


def test_entry_criteria_and_approvals_keep_the_card_in_its_column(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    wf = workflow(
        client,
        acme,
        kind="opportunity",
        name="Gated flow",
        stages=[
            {"key": "open", "name": "Open"},
            {
                "key": "commit",
                "name": "Commit",
                "required_fields": ["mine.amount", "mine.close_date"],
            },
            {"key": "signed", "name": "Signed", "category": "won"},
        ],
        transitions=[
            {"from": "open", "to": "commit"},
            {"from": "open", "to": "signed", "approvals": [{"company": "host", "role": "admin"}]},
        ],
    )
    rid = record(client, acme, "opportunity", "Gated deal")  # enters Open, the first stage
    browser = signed_in(new_browser, acme)
    page = browser.page(f"/board?workflow_id={wf['id']}")

    criteria = _drop(browser, page, rid, "commit")
    assert criteria.status_code == 409
    assert (
        "Can't move “Gated deal” to Commit: fill My amount and My close date first."
        in _status(criteria.text).text
    )
    assert _column_of(parse(criteria.text), rid) == "open"

    page = parse(criteria.text)
    pending = _drop(browser, page, rid, "signed")
    assert pending.status_code == 200
    assert "The move of “Gated deal” is waiting for approvals." in _status(pending.text).text
    assert _column_of(parse(pending.text), rid) == "open"

    again = _drop(browser, parse(pending.text), rid, "commit")
    assert again.status_code == 409
    assert "is waiting for approvals" in _status(again.text).text


def test_a_chevron_filters_the_board_in_place(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme, _, browser = _setup(client, new_browser)
    record(client, acme, "opportunity", "First", stage="qualify", amount=100)
    record(client, acme, "opportunity", "Second", stage="propose", amount=70)
    page = browser.page("/board")
    chevron = page.root.by_id("chevron-propose")
    assert chevron is not None
    assert chevron.attrs["hx-target"] == "#board"
    everything = page.root.by_id("chevron-all")
    assert everything is not None
    assert everything.attrs["aria-current"] == "true"
    assert "aria-current" not in chevron.attrs

    headers = htmx(browser, "/board") | {"HX-Target": "board"}
    one = browser.client.get(chevron.attrs["hx-get"], headers=headers)
    assert one.status_code == 200
    assert "<html" not in one.text  # the board alone, swapped in place
    assert one.headers["HX-Push-Url"] == "/board?kind=opportunity&stage=propose"
    board = parse(one.text)
    columns = [s.attrs["data-stage"] for s in board.root.iter("section")]
    assert columns == ["propose"]
    titles = [h.text for h in board.root.iter("h3")]
    assert titles == ["Second"]
    assert _counts(board) == _counts(page)  # counts and totals stay for every stage
    assert "USD 100.00" in board.root.find("nav", class_="chevrons").text  # type: ignore[union-attr]
    assert board.root.by_id("chevron-propose").attrs["aria-current"] == "true"  # type: ignore[union-attr]
    all_stages = board.root.by_id("chevron-all")
    assert all_stages is not None
    assert "aria-current" not in all_stages.attrs

    back = browser.client.get(all_stages.attrs["hx-get"], headers=headers)
    assert len(list(parse(back.text).root.iter("section"))) > 1
