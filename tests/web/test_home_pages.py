"""Home "Get started", the network page's graph and table, and the main navigation."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.fixtures.builders import Member, make_company, make_partnership
from tests.fixtures.cosell import join, record
from tests.fixtures.pipeline import make_lead, nominate
from tests.web.conftest import Browser
from tests.web.html import Element, Page, parse

STEPS = ["colleagues", "partner", "program", "plan", "opportunity", "lead"]


def signed_in(new_browser: Callable[[], Browser], member: Member) -> Browser:
    browser = new_browser()
    response = browser.login(member.email)
    assert response.url.path == "/", response.text[:1000]
    return browser


def panel(page: Page) -> Element | None:
    found = page.root.by_id("get-started")
    return found if found is not None and "get-started" in found.classes() else None


def ticked(page: Page) -> set[str]:
    """The keys of the steps shown as done (class, hidden "(done)" text and no action link)."""
    box = panel(page)
    assert box is not None, "no Get started panel"
    done = set()
    for step in box.find_all("li"):
        key = step.attrs["data-step"]
        if "is-done" in step.classes():
            assert "(done)" in step.text
            assert step.find("a") is None
            done.add(key)
        else:
            assert "(to do)" in step.text
            assert step.find("a") is not None
    return done


def progress(page: Page) -> tuple[str, str, str]:
    box = panel(page)
    assert box is not None
    bar = box.find("progress")
    assert bar is not None
    label = page.root.by_id(bar.attrs["aria-labelledby"])
    assert label is not None
    return bar.attrs["value"], bar.attrs["max"], label.text


def test_get_started_ticks_each_step_as_the_company_does_it(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    me = make_company(client, "Starter")
    partner = make_company(client, "Helper")
    browser = signed_in(new_browser, me)

    home = browser.page("/")
    assert ticked(home) == set()
    assert progress(home) == ("0", "6", "0 of 6 steps done")
    steps = panel(home)
    assert steps is not None
    assert [li.attrs["data-step"] for li in steps.find_all("li")] == STEPS
    links = {li.attrs["data-step"]: li.find("a") for li in steps.find_all("li")}
    assert links["colleagues"].attrs["href"] == "/settings/users#invite"  # type: ignore[union-attr]
    assert links["partner"].attrs["href"] == "/directory"  # type: ignore[union-attr]
    # "New program" and "New plan" open the list's "New …" dialog at once
    assert links["program"].attrs["href"] == "/programs#new-record"  # type: ignore[union-attr]
    assert links["plan"].attrs["href"] == "/plans#new-record"  # type: ignore[union-attr]

    invited = client.post(
        "/api/v1/invitations",
        json={"email": "new.colleague@starter.example", "role": "member"},
        headers=me.headers,
    )
    assert invited.status_code == 201, invited.text
    assert ticked(browser.page("/")) == {"colleagues"}

    partnership = make_partnership(client, me, partner, accept=False)  # pending counts
    assert ticked(browser.page("/")) == {"colleagues", "partner"}
    accepted = client.post(f"/api/v1/partnerships/{partnership}/accept", headers=partner.headers)
    assert accepted.status_code == 200, accepted.text

    program = record(client, me, "program", "Our partner program")
    home = browser.page("/")
    assert ticked(home) == {"colleagues", "partner", "program"}
    # in a program now: "Nominate a solution" opens the program's "Propose an idea" dialog
    box = panel(home)
    assert box is not None
    assert [li.attrs["data-step"] for li in box.find_all("li")] == [*STEPS, "nominate"]
    nominate_link = box.find("li", id="start-nominate")
    assert nominate_link is not None
    link = nominate_link.find("a")
    assert link is not None
    assert link.attrs["href"] == f"/programs/{program}#propose-idea"
    record(client, me, "plan", "Our first joint plan")
    assert ticked(browser.page("/")) == {"colleagues", "partner", "program", "plan"}

    deal = record(client, me, "opportunity", "A deal")
    assert "opportunity" not in ticked(browser.page("/"))  # not shared with anyone yet
    invite = client.post(
        f"/api/v1/opportunities/{deal}/participants",
        json={"company_id": partner.company_id},
        headers=me.headers,
    )
    assert invite.status_code == 201, invite.text  # invited (not yet accepted) counts
    home = browser.page("/")
    assert ticked(home) == {"colleagues", "partner", "program", "plan", "opportunity"}
    assert progress(home) == ("5", "7", "5 of 7 steps done")

    lead = make_lead(client, me, "A lead")
    assert "lead" not in ticked(browser.page("/"))
    nominate(client, me, lead, partner)
    assert ticked(browser.page("/")) == {*STEPS}
    idea = client.post(
        f"/api/v1/programs/{program}/ideas",
        json={"kind": "solution", "title": "Idea", "problem": "P", "target_customers": "T"},
        headers=me.headers,
    )
    assert idea.status_code == 201, idea.text

    done = browser.page("/")
    assert panel(done) is None
    assert done.root.by_id("get-started") is None


def test_records_of_other_companies_never_tick_my_steps(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    me = make_company(client, "Watcher")
    a = make_company(client, "Alpha")
    b = make_company(client, "Beta")
    make_partnership(client, a, b)
    plan = record(client, a, "plan", "Alpha and Beta plan")
    join(client, a, "plan", plan, b)
    deal = record(client, a, "opportunity", "Alpha and Beta deal")
    join(client, a, "opportunity", deal, b)
    nominate(client, a, make_lead(client, a, "Alpha lead"), b)

    assert ticked(signed_in(new_browser, me).page("/")) == set()
    # the partner on those records has them ticked (it sees them), its own invitations aside
    assert ticked(signed_in(new_browser, b).page("/")) == {"partner", "plan", "opportunity"}


def test_dismissing_get_started_is_remembered_and_can_be_undone(browser: Browser) -> None:
    browser.signup("Busy Co")
    assert panel(browser.page("/")) is not None

    hidden = browser.submit("/", "/home/get-started", containing="Dismiss")
    assert hidden.url.path == "/"
    page = parse(hidden.text)
    assert panel(page) is None
    assert any("Get started is hidden" in f for f in page.flashes())
    # other preference changes keep the dismissal
    browser.submit("/", "/preferences/hide-private")
    browser.submit("/", "/preferences/hide-private")
    again = browser.page("/")
    assert panel(again) is None
    assert again.root.by_id("get-started") is not None  # the way back

    shown = browser.submit("/", "/home/get-started", containing="Show Get started")
    assert panel(parse(shown.text)) is not None


def test_dismissing_with_htmx_swaps_the_panel_for_the_way_back(browser: Browser) -> None:
    browser.signup("Htmx Co")
    form = browser.page("/").form("/home/get-started", containing="Dismiss")
    response = browser.client.post(
        "/home/get-started",
        data=form.fields(),
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/"},
    )
    assert response.status_code == 200
    fragment = parse(response.text)
    assert fragment.root.find("html") is None
    swapped = fragment.root.by_id("get-started")
    assert swapped is not None
    assert swapped.attrs.get("role") == "status"
    assert "Show Get started" in swapped.text
    assert panel(browser.page("/")) is None


def test_dismissal_refuses_a_post_without_csrf_and_survives_garbage(browser: Browser) -> None:
    browser.signup("Garbage Co")
    refused = browser.client.post("/home/get-started", data={"hide": "1"})
    assert refused.status_code == 403
    assert panel(browser.page("/")) is not None
    token = browser.page("/").form("/home/get-started").fields()["csrf_token"]
    for data in ({"hide": "x" * 5000}, {"hide": ["1", "0"]}, {}, {"hide": "\x00"}):
        response = browser.client.post("/home/get-started", data={"csrf_token": token, **data})
        assert response.status_code < 500, data


def test_network_page_draws_the_graph_and_lists_the_same_connections(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    me = make_company(client, "Hub")
    spoke = make_company(client, "Spoke")
    rim = make_company(client, "Rim")
    waiting = make_company(client, "Waiting")
    make_partnership(client, me, spoke)
    make_partnership(client, me, rim)
    make_partnership(client, spoke, rim)
    make_partnership(client, me, waiting, accept=False)
    for title in ("One", "Two"):
        deal = record(client, me, "opportunity", title)
        join(client, me, "opportunity", deal, spoke)
    plan = record(client, me, "plan", "Plan")
    join(client, me, "plan", plan, spoke, rim)
    hidden = record(client, spoke, "opportunity", "Not Hub's business")
    join(client, spoke, "opportunity", hidden, rim)

    browser = signed_in(new_browser, me)
    page = browser.page("/network")

    canvas = page.root.by_id("network-graph")
    assert canvas is not None
    assert canvas.attrs["role"] == "img"
    assert "3 connections" in canvas.attrs["aria-label"]
    scripts = [s.attrs.get("src", "") for s in page.root.iter("script")]
    assert any(src.startswith("/static/vendor/cytoscape.min.js") for src in scripts)
    assert any(src.startswith("/static/network.js") for src in scripts)
    drawn = browser.get(canvas.attrs["data-graph-url"])
    assert drawn.status_code == 200
    assert drawn.headers["content-type"] == "application/json"
    assert drawn.json() == client.get("/api/v1/network/graph", headers=me.headers).json()
    assert len(drawn.json()["edges"]) == 3

    table = page.root.find("table", class_="table graph-table")
    assert table is not None
    rows = {
        tuple(td.text for td in tr.find_all("td"))
        for tr in table.find("tbody").find_all("tr")  # type: ignore[union-attr]
    }
    assert rows == {
        ("Hub (you)", "Spoke", "3", "2 opportunities, 1 joint sales plan"),
        ("Hub (you)", "Rim", "1", "1 joint sales plan"),
        ("Rim", "Spoke", "1", "1 joint sales plan"),
    }
    links = {a.attrs["href"] for a in table.find_all("a")}
    assert links == {f"/companies/{m.company_id}" for m in (me, spoke, rim)}
    lonely = page.root.find("p", class_="muted small graph-lonely")
    assert lonely is not None
    assert "Waiting" in lonely.text
    assert "Invitation pending" in lonely.text


def test_the_graph_data_of_the_page_needs_a_session(
    browser: Browser, new_browser: Callable[[], Browser]
) -> None:
    anonymous = new_browser().get("/network/graph.json", follow_redirects=False)
    assert anonymous.status_code in {302, 303}
    assert anonymous.headers["location"].startswith("/login")
    browser.signup("Graph Co")
    mine = browser.get("/network/graph.json").json()
    assert [(n["name"], n["role"]) for n in mine["nodes"]] == [("Graph Co", "me")]


def test_network_page_without_partners_says_how_to_start(browser: Browser) -> None:
    browser.signup("Lonely Co")
    page = browser.page("/network")
    assert page.root.by_id("network-graph") is None
    graph = page.root.by_id("graph")
    assert graph is not None
    assert "once you invite partners" in graph.text


def current_nav(page: Page) -> list[str]:
    sidebar = page.root.find("nav", id="sidebar")
    assert sidebar is not None
    return [a.text for a in sidebar.find_all("a") if a.attrs.get("aria-current") == "page"]


def test_the_sidebar_groups_the_app_and_marks_the_page_i_am_on(browser: Browser) -> None:
    browser.signup("Nav Co")
    home = browser.page("/")
    sidebar = home.root.find("nav", id="sidebar")
    assert sidebar is not None
    assert sidebar.attrs["aria-label"] == "Main"
    headings = [p.text for p in sidebar.find_all("p") if "nav-heading" in p.classes()]
    lists = {
        ul.attrs.get("aria-labelledby") or ul.attrs.get("aria-label"): [
            item.text for item in ul.iter() if "nav-item" in item.classes()
        ]
        for ul in sidebar.find_all("ul")
    }
    assert headings == ["Network", "Co-sell", "Reports"]
    assert lists["nav-network"] == ["Home", "Network", "Directory"]
    assert lists["nav-cosell"] == [
        "Programs",
        "Plans",
        "Pipeline board",
        "Opportunities",
        "Leads",
        "Accounts",
        "Solutions",
        "Solutions portfolio",
        "Campaigns",
        "Registrations",
        "Nominations",
        "Approvals",
        "Marketing funds",
    ]
    assert lists["nav-reports"] == ["Reports and dashboards"]
    assert lists["Settings"] == ["Settings"]

    for path, label in [
        ("/", "Home"),
        ("/network", "Network"),
        ("/directory", "Directory"),
        ("/opportunities", "Opportunities"),
        ("/leads", "Leads"),
        ("/leads/nominations", "Nominations"),
        ("/registrations", "Registrations"),
        ("/campaigns", "Campaigns"),
        ("/approvals", "Approvals"),
        ("/board", "Pipeline board"),
        ("/solutions/portfolio", "Solutions portfolio"),
        ("/reports", "Reports and dashboards"),
        ("/settings/company", "Settings"),
    ]:
        assert current_nav(browser.page(path)) == [label], path


def test_the_topbar_keeps_the_private_fields_switch_and_its_state(browser: Browser) -> None:
    browser.signup("Switch Co")
    off = browser.page("/network")
    button = off.form("/preferences/hide-private").element.find("button")
    assert button is not None
    assert button.text == "Hide private fields"
    assert "is-on" not in button.classes()
    assert off.root.by_id("private-badge") is None

    on = parse(browser.submit("/network", "/preferences/hide-private").text)
    button = on.form("/preferences/hide-private").element.find("button")
    assert button is not None
    assert button.text == "Show private fields"
    assert "is-on" in button.classes()
    badge = on.root.by_id("private-badge")
    assert badge is not None
    assert badge.attrs["role"] == "status"
    assert button.attrs["aria-describedby"] == "private-badge"

    menu = on.root.by_id("menu-button")
    assert menu is not None
    assert menu.attrs["aria-controls"] == "sidebar"
    assert menu.attrs["aria-expanded"] == "false"
    skip = on.root.find("a", class_="skip-link")
    assert skip is not None
    assert skip.attrs["href"] == "#main"
