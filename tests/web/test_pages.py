"""The web shell as a whole: every page's structure, error pages, assets, and bad input."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.fixtures.builders import make_company, make_partnership
from tests.fixtures.smtp import Inbox, link_in
from tests.web.conftest import Browser
from tests.web.html import Page, parse

ANONYMOUS_PAGES = ["/login", "/signup", "/password-reset"]
SIGNED_IN_PAGES = [
    "/",
    "/directory",
    "/network",
    "/settings/company",
    "/settings/users",
    "/settings/tokens",
    "/settings/preferences",
]


def check_structure(page: Page, where: str) -> None:
    """What every page owes its users: a title, one h1, a skip link, labelled controls."""
    assert page.title.endswith("· Coterie"), where
    assert len(page.h1) == 1, (where, page.h1)
    skip = page.root.find("a", class_="skip-link")
    assert skip is not None, where
    assert skip.attrs["href"] == "#main", where
    assert page.root.by_id("main") is not None, where
    html = page.root.find("html")
    assert html is not None
    assert html.attrs.get("lang") == "en"
    ids = [e.attrs["id"] for e in page.root.iter() if "id" in e.attrs]
    assert len(ids) == len(set(ids)), (where, sorted(i for i in ids if ids.count(i) > 1))
    labelled = {e.attrs.get("for") for e in page.root.iter("label")}
    for control in page.root.iter():
        if control.tag not in {"input", "select", "textarea"}:
            continue
        if control.attrs.get("type") in {"hidden", "submit", "button"}:
            continue
        inside_label = any(a.tag == "label" for a in control.ancestors())
        assert (
            control.attrs.get("id") in labelled or inside_label or "aria-label" in control.attrs
        ), (where, control.attrs)
    for form in page.forms():
        if form.method == "post":
            assert form.fields().get("csrf_token"), (where, form.action)
    stylesheet = page.root.find("link", rel="stylesheet")
    assert stylesheet is not None
    assert stylesheet.attrs["href"].startswith("/static/")
    for script in page.root.iter("script"):
        assert script.attrs.get("src", "").startswith("/static/"), where  # no CDN, no inline JS


def test_every_page_is_well_formed(
    browser: Browser, client: TestClient, inbox: Inbox, new_browser: Callable[[], Browser]
) -> None:
    for path in ANONYMOUS_PAGES:
        check_structure(browser.page(path), path)
    browser.signup("Shape Co")
    other = make_company(client, "Shape Partner")
    browser.submit(
        "/directory",
        "/network/partnerships",
        {"message": "hi"},
        containing="Message to Shape Partner",
    )
    browser.submit("/settings/users", "/settings/invitations", {"email": "new@shape.example"})
    browser.submit("/settings/tokens", "/settings/tokens", {"name": "one"})
    for path in [*SIGNED_IN_PAGES, f"/companies/{other.company_id}", "/nowhere"]:
        response = browser.get(path)
        check_structure(parse(response.text), path)
    invited = new_browser()
    link = link_in(inbox.wait_for("new@shape.example"), "/invitations/accept")
    check_structure(invited.page(link), "invitation")
    check_structure(parse(invited.get("/invitations/accept?token=x").text), "bad invitation")
    check_structure(parse(invited.get("/password-reset/confirm?token=x").text), "bad reset")


def test_pages_send_security_headers(browser: Browser) -> None:
    response = browser.get("/login")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["cache-control"] == "no-store"


def test_assets_are_served_locally(browser: Browser) -> None:
    css = browser.get("/static/coterie.css")
    assert css.status_code == 200
    assert ":focus-visible" in css.text
    htmx = browser.get("/static/vendor/htmx.min.js")
    if htmx.status_code == 404:
        pytest.skip("run `make assets` to copy htmx into static/vendor")
    assert htmx.status_code == 200
    assert "htmx" in htmx.text[:2000]


def test_errors_on_pages_are_html_and_api_errors_stay_json(browser: Browser) -> None:
    missing = browser.get("/no/such/page")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    page = parse(missing.text)
    assert page.h1 == ["Not found"]
    assert "Error 404" in page.text
    wrong_method = browser.get("/logout")
    assert wrong_method.status_code == 405
    assert parse(wrong_method.text).h1 == ["Method not allowed"]
    api = browser.get("/api/v1/nothing-here")
    assert api.status_code == 404
    assert api.headers["content-type"].startswith("application/problem+json")


def test_error_pages_know_who_is_signed_in(browser: Browser) -> None:
    browser.signup("Error Co")
    page = parse(browser.get("/nowhere").text)
    assert "Error Co" in page.root.find("header").text
    assert page.forms("/logout")


def test_pages_are_not_in_the_api_schema(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    probes = ("/healthz", "/livez", "/readyz")
    assert all(path.startswith(("/api/", *probes)) for path in paths), sorted(paths)


GARBAGE = [
    {},
    {"name": "x" * 30_000},
    {"email": "\x00\x01", "password": "\ud800".encode("utf-8", "surrogatepass").decode("latin-1")},
    {"company_id": "not-a-uuid", "message": "m" * 5000},
    {"role": "god", "is_active": "perhaps"},
    {"regions": ["mars", "emea"], "partner_types": "x", "industry": "?", "currency": "ZZZ"},
    {"timezone": "../../etc/passwd", "email_notifications": "always", "hide_private_fields": "x"},
    {"token": "a" * 2000, "next": "//evil.example"},
    {"expires_in_days": "-5"},
    {"expires_in_days": "forever"},
]


def test_bad_form_input_never_breaks_a_page(
    browser: Browser, client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    browser.signup("Fuzz Co")
    partner = make_company(client, "Fuzz Partner")
    other = make_company(client, "Fuzz Other")
    partnership_id = make_partnership(client, partner, other)
    token = browser.page("/").form("/logout").fields()["csrf_token"]
    actions = [
        "/login",
        "/signup",
        "/password-reset",
        "/password-reset/confirm",
        "/invitations/accept",
        "/network/partnerships",
        f"/network/partnerships/{partnership_id}/accept",
        "/network/partnerships/not-an-id/revoke",
        "/network/partnerships/00000000-0000-0000-0000-000000000000/explode",
        "/settings/company",
        f"/settings/users/{partner.user_id}",
        "/settings/users/not-an-id",
        "/settings/invitations",
        "/settings/invitations/xyz/revoke",
        "/settings/tokens",
        "/settings/tokens/xyz/revoke",
        "/settings/preferences",
        "/preferences/hide-private",
    ]
    for action in actions:
        for data in GARBAGE:
            response = browser.client.post(action, data={"csrf_token": token, **data})
            assert response.status_code < 500, (action, data, response.text[:500])
            assert response.headers["content-type"].startswith("text/html"), (action, data)
        multipart = browser.client.post(
            action,
            data={"csrf_token": token},
            files={"upload": ("x.bin", b"\x00" * 10, "application/octet-stream")},
        )
        assert multipart.status_code < 500, action
        as_json = browser.client.post(action, json={"csrf_token": token})
        assert as_json.status_code == 403, action  # a JSON body carries no form token
    assert browser.get("/").status_code == 200  # still signed in, still working
    anonymous = new_browser()
    anonymous.page("/login")
    for action in actions:
        response = anonymous.client.post(action, data={})
        assert response.status_code < 500, action


@pytest.mark.parametrize(
    "query",
    [
        "q=%00",
        "q=" + "x" * 5000,
        "industry=%00&region=%FF&partner_type=%27",
        "cursor=%00",
        "cursor=WyJcdTAwMDAiLCAiMDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwIl0",
        "cursor=W1tdLCAxXQ",
    ],
)
def test_bad_query_strings_never_break_the_directory(browser: Browser, query: str) -> None:
    browser.signup("Query Co")
    response = browser.get("/directory?" + query)
    assert response.status_code == 200, response.text[:500]
    for path in ("/settings/users?users_cursor=", "/settings/users?invitations_cursor="):
        assert browser.get(path + query.split("=", 1)[1]).status_code == 200
