"""The record table a partner manager shapes: columns, sortable headings, filter rows and saved
views, driven like a browser (plain GETs and htmx swaps of #record-table), and the proof that a
partner's private field can be neither filtered nor sorted on, and a view never crosses over."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from tests.fixtures.builders import Member, make_colleague, make_company, make_partnership
from tests.fixtures.cosell import API, fill, join, record, template
from tests.fixtures.smtp import Inbox
from tests.web.conftest import Browser
from tests.web.html import Element, Page, parse
from tests.web.test_network_pages import signed_in
from tests.web.test_record_pages import htmx


def _table_headers(page: Page) -> list[str]:
    table = page.root.find("table")
    assert table is not None, page.html[:3000]
    return [
        th.text.split(",")[0].replace("↑", "").replace("↓", "").strip() for th in table.iter("th")
    ]


def _titles(page: Page) -> list[str]:
    return [a.text for a in page.root.find_all("a") if "record-link" in a.classes()]


def _table_htmx(browser: Browser, url: str) -> dict[str, str]:
    return htmx(browser, "/opportunities") | {"HX-Target": "record-table"}


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def _heading(page: Page, label: str) -> Element:
    for th in page.root.iter("th"):
        if th.text.startswith(label):
            return th
    raise AssertionError(f"no heading {label}")


def _deals(client: TestClient, acme: Member) -> None:
    record(client, acme, "opportunity", "Small deal", amount=100, stage="Qualify")
    record(client, acme, "opportunity", "Big deal", amount=300, stage="Propose")
    record(client, acme, "opportunity", "Middle deal", amount=200, stage="Qualify")


def test_columns_and_sort_show_in_the_table_and_the_url(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    _deals(client, acme)
    browser = signed_in(new_browser, acme)

    default = browser.page("/opportunities")
    assert _table_headers(default) == [
        "Title", "Customer", "Owner", "Participants", "My stage", "My amount", "My close date",
        "Partners' amounts",
    ]  # fmt: skip
    chooser = default.root.by_id("column-chooser")
    assert chooser is not None
    checked = {i.attrs["value"] for i in chooser.iter("input") if "checked" in i.attrs}
    assert {"title", "mine.amount", "participants"} <= checked
    assert "customer_domain" not in checked

    # columns and sort from the URL: a link anyone can share
    shaped = browser.page("/opportunities?cols=title,mine.amount,customer_domain&sort=-mine.amount")
    assert _table_headers(shaped) == ["Title", "My amount", "Customer domain"]
    assert _titles(shaped) == ["Big deal", "Middle deal", "Small deal"]
    amount = _heading(shaped, "My amount")
    assert amount.attrs["aria-sort"] == "descending"
    assert "aria-sort" not in _heading(shaped, "Title").attrs
    # clicking the sorted heading again sorts ascending; the link keeps the columns
    link = amount.find("a")
    assert link is not None
    assert _query(link.attrs["href"])["sort"] == ["mine.amount"]
    assert _query(link.attrs["href"])["cols"] == ["title,mine.amount,customer_domain"]
    ascending = browser.get(link.attrs["href"], headers=_table_htmx(browser, link.attrs["href"]))
    assert ascending.status_code == 200
    assert "<html" not in ascending.text  # the table region alone, swapped in place
    assert _titles(parse(ascending.text)) == ["Small deal", "Middle deal", "Big deal"]
    assert _heading(parse(ascending.text), "My amount").attrs["aria-sort"] == "ascending"
    assert _query(ascending.headers["HX-Push-Url"])["sort"] == ["mine.amount"]

    # the column chooser's form, as htmx sends it: the URL says what the table shows
    chosen = browser.get(
        "/opportunities",
        params=[("builder", "1"), ("col", "mine.stage"), ("col", "created_at")],
        headers=_table_htmx(browser, "/opportunities"),
    )
    assert chosen.status_code == 200
    assert _table_headers(parse(chosen.text)) == ["Title", "My stage", "Created"]
    pushed = chosen.headers["HX-Push-Url"]
    assert pushed.startswith("/opportunities?")
    assert _query(pushed)["cols"] == ["title,mine.stage,created_at"]
    assert _table_headers(browser.page(pushed)) == ["Title", "My stage", "Created"]


def test_filter_rows_compile_to_the_list_filter_and_partner_private_fields_are_refused(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    globex = make_company(client, "Globex")
    make_partnership(client, acme, globex)
    template(client, globex, "opportunity", amount="participants")  # its stage stays private
    _deals(client, acme)
    joint = record(client, acme, "opportunity", "Joint deal", amount=50)
    join(client, acme, "opportunity", joint, globex)
    fill(client, globex, "opportunity", joint, amount=999, stage="Globex secret stage")
    browser = signed_in(new_browser, acme)

    # the builder's rows become the filter JSON the list accepts
    filtered = browser.get(
        "/opportunities",
        params=[
            ("builder", "1"),
            ("match", "all"),
            ("ff", "mine.amount"),
            ("fo", "gte"),
            ("fv", "150"),
            ("ff", "mine.stage"),
            ("fo", "eq"),
            ("fv", "Qualify"),
        ],
        headers=_table_htmx(browser, "/opportunities"),
    )
    assert filtered.status_code == 200, filtered.text[:2000]
    assert _titles(parse(filtered.text)) == ["Middle deal"]
    pushed = _query(filtered.headers["HX-Push-Url"])
    assert json.loads(pushed["filter"][0]) == {
        "all": [
            {"field": "mine.amount", "op": "gte", "value": 150},
            {"field": "mine.stage", "op": "eq", "value": "Qualify"},
        ]
    }
    # the shared URL reads back into the same rows
    again = browser.page(filtered.headers["HX-Push-Url"])
    assert _titles(again) == ["Middle deal"]
    values = again.form("/opportunities#record-table", containing="Filter").fields()
    assert values["ff"] == ["mine.amount", "mine.stage"]
    assert values["fv"] == ["150", "Qualify"]
    # a row with a bad number is pointed at, not run
    bad = browser.get(
        "/opportunities",
        params=[("builder", "1"), ("ff", "mine.amount"), ("fo", "gt"), ("fv", "lots")],
        headers=_table_htmx(browser, "/opportunities"),
    )
    assert bad.status_code == 422
    assert "Enter a number." in parse(bad.text).root.by_id("fv-0-error").text  # type: ignore[union-attr]

    # Globex shares its amount: a column I can choose, filter and sort on
    listing = browser.page("/opportunities")
    chooser = listing.root.by_id("column-chooser")
    assert chooser is not None
    partner_amount = f"{globex.company_id}.amount"
    offered = {i.attrs["value"] for i in chooser.iter("input")}
    assert partner_amount in offered
    assert f"{globex.company_id}.stage" not in offered  # private to Globex: not offered
    theirs = browser.page(f"/opportunities?cols=title,{partner_amount}&sort=-{partner_amount}")
    assert _table_headers(theirs) == ["Title", "Globex: Amount"]
    assert "USD 999.00" in theirs.root.find("table").text  # type: ignore[union-attr]

    # ...but its private stage cannot be filtered or sorted on: the 400 is said inline
    secret = json.dumps({"field": f"{globex.company_id}.stage", "op": "eq", "value": "x"})
    for url, params in (
        ("/opportunities", {"filter": secret}),
        ("/opportunities", {"sort": f"{globex.company_id}.stage"}),
        ("/opportunities", {"builder": "1", "ff": f"{globex.company_id}.stage", "fv": "x"}),
    ):
        refused = browser.get(url, params=params)
        assert refused.status_code == 400, refused.text[:2000]
        alert = parse(refused.text).root.by_id("table-error")
        assert alert is not None
        assert "it is not a field you can see" in alert.text
        assert "Globex secret stage" not in refused.text
        assert "Joint deal" not in alert.text
    swapped = browser.get(
        "/opportunities", params={"filter": secret}, headers=_table_htmx(browser, "/opportunities")
    )
    assert swapped.status_code == 400
    assert "<html" not in swapped.text
    assert parse(swapped.text).root.by_id("table-error") is not None


def _view_options(page: Page) -> dict[str, str]:
    select = page.root.by_id("view-select")
    assert select is not None
    return {o.text: o.attrs["value"] for o in select.iter("option") if o.attrs["value"]}


def test_saved_views_save_open_share_and_delete(
    client: TestClient, new_browser: Callable[[], Browser], inbox: Inbox
) -> None:
    acme = make_company(client, "Acme")
    globex = make_company(client, "Globex")
    make_partnership(client, acme, globex)
    colleague = make_colleague(client, acme, "member", inbox=inbox)
    _deals(client, acme)
    owner = signed_in(new_browser, acme)

    shaped = "/opportunities?cols=title,mine.amount&sort=-mine.amount"
    token = owner.page(shaped).form("/logout").fields()["csrf_token"]
    form = owner.page(shaped).form("/opportunities/views").fields()
    assert form["cols"] == "title,mine.amount"
    assert form["sort"] == "-mine.amount"
    # a private view, saved with htmx: the table reopens on it
    headers = {"HX-Request": "true", "HX-Target": "record-table", "X-CSRF-Token": str(token)}
    saved = owner.client.post(
        "/opportunities/views", data=form | {"name": "My big deals"}, headers=headers
    )
    assert saved.status_code == 200, saved.text[:2000]
    page = parse(saved.text)
    assert "View “My big deals” saved, for you only." in page.text
    view_id = _view_options(page)["My big deals (private)"]
    assert _query(saved.headers["HX-Push-Url"])["view"] == [view_id]
    # filters on it: a view keeps columns, sort and filter
    filtered = json.dumps({"field": "mine.stage", "op": "eq", "value": "Qualify"})
    form2 = owner.page(f"{shaped}&filter={filtered}").form("/opportunities/views").fields()
    shared = owner.submit(
        f"{shaped}&filter={filtered}",
        "/opportunities/views",
        {"name": "Team qualify", "shared": "1", **{k: v for k, v in form2.items() if k != "name"}},
    )
    assert shared.status_code == 200
    assert "View “Team qualify” saved, shared with your company." in parse(shared.text).flashes()
    team_id = _query(str(shared.url))["view"][0]
    opened = owner.page(f"/opportunities?view={team_id}")
    assert _table_headers(opened) == ["Title", "My amount"]
    assert _titles(opened) == ["Middle deal", "Small deal"]
    # a nameless view is refused next to the name
    nameless = owner.client.post("/opportunities/views", data=form | {"name": " "}, headers=headers)
    assert nameless.status_code == 422
    assert parse(nameless.text).root.by_id("view-name-error") is not None

    # the API keeps its shape: the condition as `filter`, the view's columns and sort beside it
    api = client.get(f"{API}/saved-filters", headers=acme.headers).json()
    team = next(f for f in api if f["id"] == team_id)
    assert team["filter"] == json.loads(filtered)
    assert team["columns"] == ["title", "mine.amount"]
    assert team["sort"] == "-mine.amount"

    # a colleague sees the shared view, not the private one, and cannot delete it
    mate = signed_in(new_browser, colleague)
    theirs = mate.page("/opportunities")
    options = _view_options(theirs)
    assert any(text.startswith("Team qualify (shared by") for text in options)
    assert not any(text.startswith("My big deals") for text in options)
    assert _titles(mate.page(f"/opportunities?view={team_id}")) == ["Middle deal", "Small deal"]
    assert not mate.page(f"/opportunities?view={team_id}").forms(
        f"/opportunities/views/{team_id}/delete"
    )
    assert mate.page(f"/opportunities?view={view_id}", status=404)
    mate_token = mate.page("/opportunities").form("/logout").fields()["csrf_token"]
    refused = mate.client.post(  # a forged form, with the current version even
        f"/opportunities/views/{team_id}/delete", data={"csrf_token": mate_token, "version": "1"}
    )
    assert refused.status_code == 200
    assert "Only the colleague who saved a filter changes it." in parse(refused.text).flashes()
    assert any(
        f["id"] == team_id for f in client.get(f"{API}/saved-filters", headers=acme.headers).json()
    )

    # a partner never sees either view
    partner = signed_in(new_browser, globex)
    assert _view_options(partner.page("/opportunities")) == {}
    assert "Team qualify" not in partner.page(f"/opportunities?view={team_id}", status=404).text

    # the owner deletes the private view
    deleted = owner.submit(
        f"/opportunities?view={view_id}", f"/opportunities/views/{view_id}/delete"
    )
    assert deleted.status_code == 200
    assert "View “My big deals” deleted." in parse(deleted.text).flashes()
    assert "My big deals (private)" not in _view_options(parse(deleted.text))
