"""Workflow pages driven like a browser: the board's chevron bar and "Move to…" control, the
record page's workflow panel (moves, approvals, tasks), the approvals inbox and the settings
page, and the proof that a partner's HTML never shows a company's own workflow or tasks."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from tests.fixtures.builders import make_company, make_partnership
from tests.fixtures.cosell import API
from tests.fixtures.workflows import join, move, record, workflow
from tests.web.conftest import Browser
from tests.web.html import parse
from tests.web.test_network_pages import signed_in
from tests.web.test_record_pages import htmx

OPPS = f"{API}/opportunities"


def _chevrons(html: str) -> dict[str, str]:
    page = parse(html)
    nav = page.root.find("nav", class_="chevrons")
    assert nav is not None, html[:2000]
    found = {}
    for link in nav.iter("a"):
        count = next(e for e in link.iter("span") if "chevron-count" in e.classes())
        found[link.attrs["data-stage"]] = count.text
    return found


def _my_stage(client: TestClient, who: object, rid: str) -> str | None:
    spaces = client.get(f"{OPPS}/{rid}", headers=who.headers).json()["spaces"]  # type: ignore[attr-defined]
    stage: str | None = next(s for s in spaces if s["is_mine"])["fields"].get("stage")
    return stage


def test_the_board_shows_chevron_counts_and_moves_a_card(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    wf = workflow(client, acme, template="standard_pipeline")
    first = record(client, acme, "opportunity", "First deal", stage="qualify", amount=100)
    record(client, acme, "opportunity", "Second deal", stage="qualify", amount=50)
    record(client, acme, "opportunity", "Third deal", stage="propose", amount=70)
    browser = signed_in(new_browser, acme)

    page = browser.page("/board")
    counts = _chevrons(page.html)
    assert counts["qualify"] == "2"
    assert counts["propose"] == "1"
    assert counts["won"] == "0"
    assert "USD 150.00" in page.root.find("nav", class_="chevrons").text  # type: ignore[union-attr]
    card = page.root.find("article", **{"data-record-id": first})
    assert card is not None
    assert card.attrs["draggable"] == "true"
    assert card.attrs["data-workflow-id"] == wf["id"]
    # clicking a chevron filters the board to that stage
    one = browser.page("/board?kind=opportunity&stage=propose")
    titles = [h.text for h in one.root.iter("h3") if "deal-title" in h.classes()]
    assert titles == ["Third deal"]
    assert _chevrons(one.html)["qualify"] == "2"  # the bar still counts every stage

    # "Move to…" posts with htmx and re-renders the board
    form = page.form("/board/move", containing="First deal")
    fields = dict(form.fields()) | {"to": "develop"}
    moved = browser.client.post("/board/move", data=fields, headers=htmx(browser, "/board"))
    assert moved.status_code == 200, moved.text[:2000]
    assert "Moved to Develop" in moved.text
    assert _chevrons(moved.text)["develop"] == "1"
    assert _my_stage(client, acme, first) == "develop"

    # a refused move is shown inline, next to the card, and changes nothing
    fields = dict(parse(moved.text).form("/board/move", containing="First deal").fields())
    refused = browser.client.post(
        "/board/move", data=fields | {"to": "negotiate"}, headers=htmx(browser, "/board")
    )
    assert refused.status_code == 409
    alert = parse(refused.text).root.by_id("move-error")
    assert alert is not None
    assert "Can't move “First deal” to Negotiate: fill My close date first." in alert.text
    assert _my_stage(client, acme, first) == "develop"
    # the same form again, now stale (its version was read before the move)
    stale = browser.client.post(
        "/board/move",
        data=dict(form.fields()) | {"to": "propose"},
        headers=htmx(browser, "/board"),
    )
    assert stale.status_code == 409
    assert "Someone moved this record" in stale.text


def test_the_record_panel_moves_approves_and_keeps_tasks(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    partner = make_company(client, "Partner")
    make_partnership(client, acme, partner)
    rid = record(client, acme, "opportunity", "Panel deal")  # before the workflow: no stage
    workflow(
        client,
        acme,
        kind="opportunity",
        name="Acme internal flow",
        stages=[
            {"key": "open", "name": "Open", "steps": [{"title": "Secret pricing review"}]},
            {"key": "signed", "name": "Signed", "category": "won"},
        ],
        transitions=[
            {"from": "open", "to": "signed", "approvals": [{"company": "host", "role": "admin"}]}
        ],
    )
    join(client, acme, "opportunity", rid, partner)
    browser = signed_in(new_browser, acme)
    page_url = f"/opportunities/{rid}"
    page = browser.page(page_url)
    rendered = page.root.by_id("workflow-panel")  # in the page itself, not fetched after it
    assert rendered is not None
    assert "hx-get" not in rendered.attrs
    assert "Acme internal flow" in rendered.text

    headers = htmx(browser, page_url)
    panel = browser.client.get(f"{page_url}/workflow-panel", headers=headers)
    assert panel.status_code == 200
    assert "Acme internal flow" in panel.text
    form = parse(panel.text).form(f"{page_url}/workflow-panel/move")
    moved = browser.client.post(
        f"{page_url}/workflow-panel/move",
        data=dict(form.fields()) | {"to": "open"},
        headers=headers,
    )
    assert moved.status_code == 200, moved.text[:2000]
    assert "Secret pricing review" in moved.text  # the stage's step became a task
    form = parse(moved.text).form(f"{page_url}/workflow-panel/move")
    pending = browser.client.post(
        f"{page_url}/workflow-panel/move",
        data=dict(form.fields()) | {"to": "signed"},
        headers=headers,
    )
    assert "waiting for approvals" in pending.text
    approve = parse(pending.text).forms()
    action = next(f.action for f in approve if f.action.endswith("/approve"))
    approved = browser.client.post(action, data={"comment": "ok"}, headers=headers)
    assert "Approved." in approved.text
    assert _my_stage(client, acme, rid) == "signed"

    # tasks: add one, tick it done
    added = browser.client.post(
        f"{page_url}/workflow-panel/tasks",
        data={"title": "Send the contract", "due_date": "2026-12-01", "shared": "1"},
        headers=headers,
    )
    assert added.status_code == 200
    assert "Send the contract" in added.text
    tasks = client.get(f"{OPPS}/{rid}/tasks", headers=acme.headers).json()
    contract = next(t for t in tasks if t["title"] == "Send the contract")
    done_form = parse(added.text).form(f"{page_url}/workflow-panel/tasks/{contract['id']}/done")
    ticked = browser.client.post(
        done_form.action, data=dict(done_form.fields()) | {"done": "1"}, headers=headers
    )
    assert ticked.status_code == 200
    assert client.get(f"{API}/tasks/{contract['id']}", headers=acme.headers).json()["done"] is True

    # the partner's panel: no Acme workflow, no Acme private task, the shared one read-only
    partner_browser = signed_in(new_browser, partner)
    theirs = partner_browser.client.get(
        f"{page_url}/workflow-panel", headers=htmx(partner_browser, page_url)
    )
    assert theirs.status_code == 200
    assert "Acme internal flow" not in theirs.text
    assert "Secret pricing review" not in theirs.text
    assert "Send the contract" in theirs.text
    assert f"/tasks/{contract['id']}/done" not in theirs.text
    # a stranger's panel request is a 404 page
    stranger = make_company(client, "Stranger")
    outsider = signed_in(new_browser, stranger)
    hidden = outsider.client.get(f"{page_url}/workflow-panel", headers=htmx(outsider, "/"))
    assert hidden.status_code == 404
    assert "Panel deal" not in hidden.text


def test_the_approvals_inbox_and_the_settings_page(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    browser = signed_in(new_browser, acme)
    settings = browser.page("/settings/workflows")
    assert "No workflow yet" in settings.main_text
    created = browser.submit(
        "/settings/workflows", "/settings/workflows", {"template": "standard_pipeline"}
    )
    assert created.status_code == 200
    assert created.url.path.startswith("/settings/workflows/")
    edit_url = created.url.path
    edit = parse(created.text)
    assert "Standard pipeline" in edit.h1
    # the designer, not JSON: a stage left without a name is refused next to it, nothing saved
    assert edit.root.find("textarea") is None
    bad = browser.submit(edit_url, edit_url, {"stages-1-label": ""})
    assert bad.status_code == 422
    assert parse(bad.text).errors()["stages-1-label"] == "Give this stage a name."
    # moving into "Closed won" (the fifth stage) needs an admin of the company to approve
    gated = {"stages-4-approvals-0-company": "host", "stages-4-approvals-0-role": "admin"}
    saved = browser.submit(edit_url, edit_url, gated)
    assert saved.status_code == 200
    assert "Workflow saved." in " ".join(parse(saved.text).flashes())
    wf_id = edit_url.rsplit("/", 1)[-1]
    wf = client.get(f"{API}/workflows/{wf_id}", headers=acme.headers).json()
    into_won = [t for t in wf["transitions"] if t["to"] == "won"]
    assert into_won
    assert all(t["approvals"] == [{"company": "host", "role": "admin"}] for t in into_won)
    assert not any(t["approvals"] for t in wf["transitions"] if t["to"] != "won")

    rid = record(
        client,
        acme,
        "opportunity",
        "Inbox deal",
        stage="negotiate",
        amount=5,
        close_date="2026-01-01",
    )
    pending = move(client, acme, "opportunity", rid, wf_id, "won")["move"]
    inbox_page = browser.page("/approvals")
    assert "Inbox deal" in inbox_page.main_text
    decided = browser.submit(
        "/approvals", f"/approvals/{pending['approvals'][0]['id']}/approve", {"comment": "Yes"}
    )
    assert decided.status_code == 200
    assert "Approved." in " ".join(parse(decided.text).flashes())
    assert "Nothing waits for you." in parse(decided.text).main_text
    assert _my_stage(client, acme, rid) == "won"


def _more_urls(html: str) -> list[str]:
    """The "Load more" buttons' URLs."""
    buttons = parse(html).root.iter("button")
    return [b.attrs["hx-get"] for b in buttons if "load-more" in b.classes()]


def _cards(html: str) -> dict[str, str]:
    """Card title -> its amount line, from a board or a column fragment."""
    found = {}
    for card in parse(html).root.iter("article"):
        if "deal-card" in card.classes():
            lines = [p.text for p in card.iter("p") if "small" in p.classes()]
            found[next(card.iter("h3")).text] = next((line for line in lines if "USD" in line), "")
    return found


def test_load_more_renders_the_next_cards_of_a_column_with_their_amounts(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    for n in range(21):  # before the workflow: the unstaged ones stay without a stage
        record(client, acme, "opportunity", f"Propose {n:02}", stage="propose", amount=100 + n)
        record(client, acme, "opportunity", f"Unstaged {n:02}", amount=500 + n)
    workflow(client, acme, template="standard_pipeline")
    browser = signed_in(new_browser, acme)
    headers = htmx(browser, "/board")

    # the column on its own (what a chevron's "load more" asks first): every card, formatted
    column = browser.client.get("/board/column?kind=opportunity&stage=propose", headers=headers)
    assert column.status_code == 200, column.text[:2000]
    first = _cards(column.text)
    assert len(first) == 20
    assert all(amount.startswith("USD 1") for amount in first.values()), first

    board = browser.page("/board")
    more_urls = {parse_qs(urlsplit(url).query)["stage"][0]: url for url in _more_urls(board.html)}
    assert set(more_urls) == {"propose", "_unstaged"}
    for prefix, stage in (("Propose", "propose"), ("Unstaged", "_unstaged")):
        shown = {t for t in _cards(board.html) if t.startswith(prefix)}
        assert len(shown) == 20
        more = browser.client.get(more_urls[stage], headers=headers)
        assert more.status_code == 200, more.text[:2000]
        rest = _cards(more.text)
        assert set(rest) | shown == {f"{prefix} {n:02}" for n in range(21)}, rest
        assert all(amount.startswith("USD ") for amount in rest.values()), rest
        swaps = [d.attrs.get("hx-swap-oob") for d in parse(more.text).root.iter("div")]
        assert f"beforeend:#cards-{stage}" in swaps, swaps
        assert _more_urls(more.text) == []  # that was the last page
