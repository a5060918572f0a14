"""Home, directory, company profiles and the network page, driven like a browser."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.fixtures.builders import Member, make_colleague, make_company, make_partnership
from tests.fixtures.smtp import Inbox
from tests.web.conftest import Browser
from tests.web.html import Page, parse


def signed_in(new_browser: Callable[[], Browser], member: Member) -> Browser:
    browser = new_browser()
    response = browser.login(member.email)
    assert response.url.path == "/", response.text[:1000]
    return browser


def card_names(page: Page) -> list[str]:
    return [h.text for h in page.root.find_all("h2") if "company-name" in h.classes()]


def test_home_shows_my_company_partners_and_a_way_to_start(browser: Browser) -> None:
    browser.signup("Home Base")
    home = browser.page("/")
    assert "Home Base" in home.root.by_id("company-title").text
    assert "No partners yet." in home.text
    steps = home.root.find("ol", class_="checklist").text
    assert "Invite colleagues" in steps
    assert "Find partners" in steps
    search = home.form("/directory")
    assert search.method == "get"
    assert "q" in search.fields()


def test_directory_filters_by_text_industry_region_and_partner_type(
    browser: Browser, client: TestClient
) -> None:
    make_company(
        client, "Alpha Cloud", industry="cloud", regions=["emea"], partner_types=["hyperscaler"]
    )
    make_company(
        client,
        "Beta Integrators",
        industry="it-services",
        regions=["north-america"],
        partner_types=["si"],
    )
    make_company(
        client,
        "Gamma Soft",
        industry="software",
        regions=["emea", "apac"],
        partner_types=["isv"],
        description="A payments platform for retailers.",
    )
    browser.signup("Viewer Co")

    everything = browser.page("/directory")
    assert set(card_names(everything)) == {
        "Alpha Cloud",
        "Beta Integrators",
        "Gamma Soft",
        "Viewer Co",
    }
    mine = everything.root.find(
        "article",
        id=next(
            a.attrs["id"] for a in everything.root.find_all("article") if "Viewer Co" in a.text
        ),
    )
    assert mine is not None
    assert "This is your company." in mine.text

    def names(query: str) -> set[str]:
        return set(card_names(browser.page("/directory?" + query)))

    assert names("q=gamma") == {"Gamma Soft"}
    assert names("q=PAYMENTS") == {"Gamma Soft"}
    assert names("industry=cloud") == {"Alpha Cloud"}
    assert names("region=emea") == {"Alpha Cloud", "Gamma Soft"}
    assert names("partner_type=si") == {"Beta Integrators"}
    assert names("region=emea&partner_type=isv") == {"Gamma Soft"}
    assert names("q=nothing-like-this") == set()
    assert names("industry=bogus&region=mars") == set(card_names(everything))  # unknown: ignored

    filtered = browser.page("/directory?region=emea&q=soft")
    form = filtered.form("/directory")
    assert form.fields()["region"] == "emea"
    assert form.fields()["q"] == "soft"
    assert "Clear" in form.text


def test_directory_pages_with_a_next_link(browser: Browser, client: TestClient) -> None:
    for n in range(23):
        make_company(client, f"Paged {n:02d}", industry="retail")
    browser.signup("Zed Viewer")
    first = browser.page("/directory?industry=retail")
    assert len(card_names(first)) == 20
    next_link = first.root.find("a", rel="next")
    assert next_link is not None
    second = browser.page(next_link.attrs["href"])
    assert "industry=retail" in next_link.attrs["href"]
    assert set(card_names(first)).isdisjoint(card_names(second))
    assert len(card_names(first)) + len(card_names(second)) == 23
    assert second.root.find("a", rel="next") is None
    assert "First page" in second.text

    stale = browser.page("/directory?cursor=not-a-cursor")
    assert "no longer valid" in stale.text
    assert len(card_names(stale)) == 20


def test_invite_to_partner_then_the_partner_accepts_on_its_home_page(
    browser: Browser, new_browser: Callable[[], Browser], inbox: Inbox
) -> None:
    browser.signup("Acme")
    globex = new_browser()
    _name, globex_email = globex.signup("Globex")

    sent = browser.submit(
        "/directory?q=globex",
        "/network/partnerships",
        {"message": "Let's co-sell in EMEA"},
        containing="Message to Globex",
    )
    assert sent.url.path == "/directory"
    page = parse(sent.text)
    assert any("Invitation sent to Globex" in f for f in page.flashes())
    assert "Invitation sent" in page.root.find("article").text
    assert "wants to partner" in inbox.wait_for(globex_email)["Subject"]

    globex_home = globex.page("/")
    pending = globex_home.root.by_id("pending-title")
    assert pending is not None
    assert "Let's co-sell in EMEA" in globex_home.text
    accept = next(f for f in globex_home.forms() if f.action.endswith("/accept"))
    accepted = globex.submit("/", accept.action)
    assert accepted.url.path == "/"
    home = parse(accepted.text)
    assert "You are now partners with Acme." in home.flashes()
    partners = home.root.find("section", aria_labelledby="partners-title")
    assert partners is not None
    assert "Acme" in partners.text

    acme_home = browser.page("/")
    acme_partners = acme_home.root.find("section", aria_labelledby="partners-title")
    assert acme_partners is not None
    assert "Globex" in acme_partners.text
    assert "Partner" in browser.page("/directory?q=globex").root.find("article").text

    # Either side can end it from the network page; both then see it in their history.
    ended = browser.submit("/network", accept.action.replace("/accept", "/revoke"))
    assert any("has ended" in f for f in parse(ended.text).flashes())
    for side, other in ((browser, "Globex"), (globex, "Acme")):
        network = side.page("/network")
        history = network.root.by_id("history")
        assert history is not None
        assert other in history.text
        assert "ended" in history.text
        assert other not in network.root.by_id("partners").text


def test_partnership_buttons_update_in_place_with_htmx(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    a = make_company(client, "Fourth Coffee")
    b = make_company(client, "Tailwind")
    partnership_id = make_partnership(client, a, b, accept=False)
    tailwind = signed_in(new_browser, b)
    token = (
        tailwind.page("/network")
        .form(f"/network/partnerships/{partnership_id}/decline")
        .fields()["csrf_token"]
    )
    headers = {
        "HX-Request": "true",
        "HX-Current-URL": "http://testserver/network",
        "X-CSRF-Token": str(token),
    }

    declined = tailwind.client.post(
        f"/network/partnerships/{partnership_id}/decline", headers=headers
    )
    assert declined.status_code == 200
    fragment = parse(declined.text)
    row = fragment.root.find("li", id=f"partnership-{partnership_id}")
    assert row is not None
    assert "You declined the invitation from Fourth Coffee." in row.text
    assert "<html" not in declined.text

    again = tailwind.client.post(f"/network/partnerships/{partnership_id}/decline", headers=headers)
    assert again.status_code == 409
    assert again.headers["HX-Retarget"] == "#flashes"
    assert "declined, not pending" in parse(again.text).text

    fourth = signed_in(new_browser, a)
    card_token = fourth.page("/directory?q=tailwind").form("/network/partnerships").fields()
    invited = fourth.client.post(
        "/network/partnerships",
        data=card_token,
        headers={"HX-Request": "true", "X-CSRF-Token": str(card_token["csrf_token"])},
    )
    assert invited.status_code == 200
    card = parse(invited.text).root.find("article", id=f"company-{b.company_id}")
    assert card is not None
    assert "Invitation sent" in card.text


def test_members_see_partnerships_but_cannot_change_them(
    client: TestClient, new_browser: Callable[[], Browser], inbox: Inbox
) -> None:
    admin = make_company(client, "Lucerne")
    make_company(client, "Woodgrove")
    member = make_colleague(client, admin, "member", inbox=inbox)
    browser = signed_in(new_browser, member)
    directory = browser.page("/directory?q=woodgrove")
    assert not directory.forms("/network/partnerships")
    assert "A manager or admin of Lucerne can invite them" in directory.text

    other = make_company(client, "Other Corp")
    token = directory.form("/logout").fields()["csrf_token"]
    refused = browser.client.post(
        "/network/partnerships",
        data={"csrf_token": token, "company_id": other.company_id, "next": "/directory"},
    )
    assert refused.url.path == "/directory"
    assert any("manager or above" in f for f in parse(refused.text).flashes())
    listed = client.get("/api/v1/partnerships", headers=admin.headers).json()
    assert listed["items"] == []


def test_company_profile_page(browser: Browser, client: TestClient) -> None:
    target = make_company(
        client,
        "Trey Research",
        industry="healthcare",
        regions=["apac"],
        partner_types=["si", "reseller"],
        website="https://trey.example/about",
        description="Clinical analytics.",
    )
    browser.signup("Looker Co")
    page = browser.page(f"/companies/{target.company_id}")
    assert page.h1 == ["Trey Research"]
    assert page.title == "Trey Research · Coterie"
    text = page.main_text
    assert "Healthcare" in text
    assert "APAC" in text
    assert "Systems integrator" in text
    assert "Clinical analytics." in text
    assert "https://trey.example/about" in page.links()
    assert page.forms("/network/partnerships")

    assert browser.get("/companies/not-a-uuid").status_code == 404
    missing = browser.get("/companies/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert parse(missing.text).h1 == ["Not found"]


def test_only_http_links_are_rendered_as_links() -> None:
    from coterie.web.templating import external_url

    assert external_url("https://a.example/x") == "https://a.example/x"
    assert external_url("javascript:alert(1)") is None
    assert external_url("data:text/html,hi") is None
    assert external_url("//a.example") is None
    assert external_url("") is None
