"""Signing up, in and out through the pages; CSRF; safe redirects; password reset by e-mail."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from coterie.config import Settings
from coterie.web.csrf import CSRF_COOKIE
from coterie.web.sessions import safe_next
from tests.fixtures.builders import PASSWORD, make_company
from tests.fixtures.smtp import Inbox, link_in
from tests.web.conftest import Browser
from tests.web.html import parse

NEW_PASSWORD = "Quiet-Harbour-Lantern-58"


def test_signup_form_lands_on_home_showing_the_company(browser: Browser) -> None:
    _company, email = browser.signup("Northwind Traders")
    home = browser.page("/")
    assert home.h1 == ["Welcome, " + home.root.find("span", class_="user-name").text]
    assert "Northwind Traders" in home.text
    assert home.title == "Home · Coterie"
    me = browser.get("/settings/users")
    assert email in me.text


def test_signup_shows_errors_next_to_the_fields_and_keeps_values(browser: Browser) -> None:
    response = browser.submit(
        "/signup",
        "/signup",
        {
            "company.name": "Contoso",
            "company.domain": "not a domain",
            "user.name": "Carla",
            "user.email": "carla@contoso.example",
            "user.password": "short",
        },
    )
    assert response.status_code == 422
    page = parse(response.text)
    errors = page.errors()
    assert "domain" in errors["company.domain"].lower()
    form = page.form("/signup")
    assert form.fields()["company.name"] == "Contoso"
    assert form.fields()["user.email"] == "carla@contoso.example"
    assert form.fields()["user.password"] == ""  # never echoed back
    assert "short" not in response.text.split("<main", 1)[1].replace("shortly", "")


def test_signup_weak_password_and_taken_email_are_field_errors(
    browser: Browser, client: TestClient
) -> None:
    make_company(client, "Taken", domain="taken.example", email="boss@taken.example")
    weak = browser.submit(
        "/signup",
        "/signup",
        {
            "company.name": "Fabrikam",
            "company.domain": "fabrikam.example",
            "user.name": "Fay",
            "user.email": "fay@fabrikam.example",
            "user.password": "password123",
        },
    )
    assert weak.status_code == 422
    assert "user.password" in parse(weak.text).errors()
    taken = browser.submit(
        "/signup",
        "/signup",
        {
            "company.name": "Fabrikam",
            "company.domain": "taken.example",
            "user.name": "Fay",
            "user.email": "boss@taken.example",
            "user.password": PASSWORD,
        },
    )
    assert taken.status_code == 409
    errors = parse(taken.text).errors()
    assert "already has a Coterie account" in errors["user.email"]


def test_signup_respects_the_setting(browser: Browser, settings: Settings) -> None:
    settings.signup_enabled = False
    page = browser.page("/signup")
    assert "Signup is disabled" in page.text
    assert not page.forms("/signup")
    token_page = browser.page("/login")
    token = token_page.form("/login").fields()["csrf_token"]
    refused = browser.client.post(
        "/signup",
        data={
            "csrf_token": token,
            "company.name": "X",
            "company.domain": "x-corp.example",
            "user.name": "X",
            "user.email": "x@x-corp.example",
            "user.password": PASSWORD,
        },
    )
    assert refused.status_code == 403
    assert browser.get("/", follow_redirects=False).status_code == 303


def test_login_sets_a_safe_cookie_and_logout_revokes_it(
    browser: Browser, new_browser: Callable[[], Browser]
) -> None:
    _company, email = browser.signup()
    browser.logout()
    assert browser.get("/", follow_redirects=False).status_code == 303

    response = browser.submit(
        "/login", "/login", {"email": email, "password": PASSWORD}, follow=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookies = response.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith("coterie_session="))
    assert "HttpOnly" in session_cookie
    assert "SameSite=lax" in session_cookie or "SameSite=Lax" in session_cookie
    assert "Path=/" in session_cookie
    assert "Secure" not in session_cookie  # plain-HTTP test server
    csrf_cookie = next(c for c in cookies if c.startswith(f"{CSRF_COOKIE}="))
    assert "HttpOnly" in csrf_cookie
    assert "samesite=strict" in csrf_cookie.lower()
    secret = browser.client.cookies.get("coterie_session")
    assert secret
    assert browser.get("/", follow_redirects=False).status_code == 200

    out = browser.logout()
    assert out.url.path == "/login"
    assert "You are signed out." in parse(out.text).flashes()

    # The old cookie no longer works, even presented by someone else.
    thief = new_browser()
    thief.client.cookies.set("coterie_session", secret)
    assert thief.get("/", follow_redirects=False).status_code == 303


def test_login_failure_shows_a_clear_message(browser: Browser, client: TestClient) -> None:
    make_company(client, "Litware", email="lee@litware.example")
    response = browser.submit(
        "/login", "/login", {"email": "lee@litware.example", "password": "nope"}
    )
    assert response.status_code == 400
    page = parse(response.text)
    assert "Wrong e-mail or password." in page.errors()["form"]
    assert page.form("/login").fields()["email"] == "lee@litware.example"
    assert browser.client.cookies.get("coterie_session") is None

    empty = browser.submit("/login", "/login", {"email": "", "password": ""})
    assert empty.status_code == 422
    assert set(parse(empty.text).errors()) >= {"email", "password"}


def test_login_throttling_is_explained(
    browser: Browser, client: TestClient, settings: Settings
) -> None:
    settings.login_failures_per_account = 2
    make_company(client, "Tailspin", email="tia@tailspin.example")
    for _ in range(2):
        browser.submit("/login", "/login", {"email": "tia@tailspin.example", "password": "bad"})
    response = browser.submit(
        "/login", "/login", {"email": "tia@tailspin.example", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "Too many failed logins" in parse(response.text).errors()["form"]
    assert response.headers["retry-after"]


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "\\\\evil.example",
        "/\r\nLocation: https://evil.example",
    ],
)
def test_login_never_redirects_off_site(browser: Browser, client: TestClient, target: str) -> None:
    make_company(client, "Adatum", email="ada@adatum.example")
    login = browser.client.get("/login", params={"next": target})
    form = parse(login.text).form("/login")
    assert form.fields()["next"] == ""
    response = browser.client.post(
        "/login",
        data={
            "csrf_token": form.fields()["csrf_token"],
            "email": "ada@adatum.example",
            "password": PASSWORD,
            "next": target,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_login_returns_to_the_page_asked_for(browser: Browser, client: TestClient) -> None:
    make_company(client, "Proseware", email="pat@proseware.example")
    first = browser.get("/directory?q=ware", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/login?next=%2Fdirectory%3Fq%3Dware"
    response = browser.submit(
        first.headers["location"],
        "/login",
        {"email": "pat@proseware.example", "password": PASSWORD},
    )
    assert response.url.path == "/directory"
    assert response.url.params["q"] == "ware"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/network", "/network"),
        ("/directory?q=a&region=emea", "/directory?q=a&region=emea"),
        ("", "/"),
        (None, "/"),
        ("network", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/x", "/"),
        ("/ok\nSet-Cookie: x", "/"),
        ("/" + "a" * 3000, "/"),
    ],
)
def test_safe_next(value: str | None, expected: str) -> None:
    assert safe_next(value) == expected


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/directory",
        "/network",
        "/settings",
        "/settings/company",
        "/settings/users",
        "/settings/tokens",
        "/settings/preferences",
        "/companies/00000000-0000-0000-0000-000000000000",
    ],
)
def test_pages_send_anonymous_visitors_to_login(browser: Browser, path: str) -> None:
    response = browser.get(path, follow_redirects=False)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/login")
    if path != "/":
        assert "next=" in location
    login = browser.get(location)
    assert parse(login.text).h1 == ["Sign in"]


def test_htmx_requests_without_a_session_are_told_to_go_to_login(browser: Browser) -> None:
    response = browser.get("/network", headers={"HX-Request": "true"}, follow_redirects=False)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/login")


# -- CSRF ------------------------------------------------------------------------------------


def test_posts_without_a_valid_csrf_token_are_refused_and_change_nothing(
    browser: Browser, new_browser: Callable[[], Browser]
) -> None:
    browser.signup("Blue Yonder")
    tokens_page = browser.page("/settings/tokens")
    good = tokens_page.form("/settings/tokens").fields()["csrf_token"]

    missing = browser.client.post("/settings/tokens", data={"name": "sneaky"})
    wrong = browser.client.post("/settings/tokens", data={"name": "sneaky", "csrf_token": "0" * 64})
    for response in (missing, wrong):
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("text/html")
        page = parse(response.text)
        assert page.h1 == ["This form has expired"]
    assert "sneaky" not in browser.page("/settings/tokens").text

    # A token that is valid for another browser's cookie does not work with mine.
    other = new_browser()
    other_token = other.page("/login").form("/login").fields()["csrf_token"]
    assert other_token != good
    foreign = browser.client.post(
        "/settings/tokens", data={"name": "sneaky", "csrf_token": other_token}
    )
    assert foreign.status_code == 403

    # No cookie at all (a cross-site POST does not carry the SameSite=Strict cookie).
    stripped = new_browser()
    stripped.client.cookies.set("coterie_session", browser.client.cookies["coterie_session"])
    cross_site = stripped.client.post(
        "/settings/tokens", data={"name": "sneaky", "csrf_token": good}
    )
    assert cross_site.status_code == 403
    assert "sneaky" not in browser.page("/settings/tokens").text

    # The header htmx sends is accepted, and so is the form field.
    header = browser.client.post(
        "/settings/tokens", data={"name": "via-header"}, headers={"X-CSRF-Token": good}
    )
    assert header.status_code == 200
    assert "via-header" in header.text


def test_anonymous_forms_are_protected_too(browser: Browser, client: TestClient) -> None:
    make_company(client, "Wingtip", email="wes@wingtip.example")
    browser.page("/login")
    response = browser.client.post(
        "/login", data={"email": "wes@wingtip.example", "password": PASSWORD}
    )
    assert response.status_code == 403
    assert browser.client.cookies.get("coterie_session") is None
    signup = browser.client.post("/signup", data={"company.name": "Nope"})
    assert signup.status_code == 403
    logout = browser.client.post("/logout")
    assert logout.status_code == 403


def test_signing_in_rotates_the_csrf_cookie(browser: Browser, client: TestClient) -> None:
    make_company(client, "Rotate", email="rae@rotate.example")
    browser.page("/login")
    before = browser.csrf_cookie
    browser.login("rae@rotate.example")
    assert browser.csrf_cookie
    assert browser.csrf_cookie != before


# -- password reset --------------------------------------------------------------------------


def test_password_reset_through_the_pages_with_the_emailed_link(
    browser: Browser, client: TestClient, inbox: Inbox
) -> None:
    make_company(client, "Relecloud", email="rio@relecloud.example")
    sent = browser.submit("/password-reset", "/password-reset", {"email": "rio@relecloud.example"})
    assert sent.status_code == 200
    assert parse(sent.text).h1 == ["Check your e-mail"]
    unknown = browser.submit(
        "/password-reset", "/password-reset", {"email": "nobody@relecloud.example"}
    )
    assert parse(unknown.text).h1 == ["Check your e-mail"]  # the same answer: no enumeration
    assert not inbox.to("nobody@relecloud.example")

    link = link_in(inbox.wait_for("rio@relecloud.example"), "/password-reset/confirm")
    form_page = browser.page(link)
    assert form_page.h1 == ["Choose a new password"]
    assert "rio@relecloud.example" in form_page.text

    mismatch = browser.submit(
        link, "/password-reset/confirm", {"password": NEW_PASSWORD, "password_confirm": "other"}
    )
    assert mismatch.status_code == 422
    assert "password_confirm" in parse(mismatch.text).errors()
    weak = browser.submit(
        link,
        "/password-reset/confirm",
        {"password": "aaaaaaaaaa", "password_confirm": "aaaaaaaaaa"},
    )
    assert weak.status_code == 422
    assert "password" in parse(weak.text).errors()

    done = browser.submit(
        link,
        "/password-reset/confirm",
        {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert done.url.path == "/login"
    assert any("password was changed" in f for f in parse(done.text).flashes())

    assert browser.login("rio@relecloud.example", PASSWORD).status_code == 400
    signed_in = browser.login("rio@relecloud.example", NEW_PASSWORD)
    assert signed_in.url.path == "/"

    again = browser.get(link)
    assert again.status_code == 400
    assert parse(again.text).h1 == ["Link already used"]
    reuse = browser.client.post(
        "/password-reset/confirm",
        data={
            "csrf_token": parse(again.text).form("/logout").fields()["csrf_token"],
            "token": link.split("token=", 1)[1],
            "password": "Another-Fine-Passphrase-91",
            "password_confirm": "Another-Fine-Passphrase-91",
        },
    )
    assert reuse.status_code == 400
    browser.logout()
    assert browser.login("rio@relecloud.example", NEW_PASSWORD).url.path == "/"


def test_password_reset_rejects_bad_links_and_bad_addresses(browser: Browser) -> None:
    bad = browser.get("/password-reset/confirm?token=forged")
    assert bad.status_code == 400
    assert parse(bad.text).h1 == ["Invalid token"]
    missing = browser.get("/password-reset/confirm")
    assert missing.status_code == 400
    invalid = browser.submit("/password-reset", "/password-reset", {"email": "not-an-address"})
    assert invalid.status_code == 422
    assert "email" in parse(invalid.text).errors()
