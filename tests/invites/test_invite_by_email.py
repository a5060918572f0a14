"""Invite anyone by e-mail: the e-mail (real SMTP) with a signed, expiring, single-use link,
the pre-filled signup, the landing on the record's invitation view, and every way a link or an
invitation is refused."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from coterie.config import Settings
from coterie.db import utcnow
from coterie.models import EmailInvite
from tests.fixtures.activity import notifications_of
from tests.fixtures.builders import PASSWORD, Member, make_company, make_partnership
from tests.fixtures.pipeline import system_connection
from tests.fixtures.records import create_record, fill_space, put_template, share_record
from tests.fixtures.smtp import Inbox, link_in, text_of
from tests.web.conftest import Browser
from tests.web.html import Page, parse

CANARY_AMOUNT = 7373737
CANARY_NOTE = "CANARY-PRIVATE-NOTE"
SHARED_NOTE = "Shared with every participant"
CANARIES = [re.compile(r"7[,. ]?373[,. ]?737"), re.compile("canary", re.IGNORECASE)]
SAM = "sam@northwind.example"


def _clean(*texts: str) -> None:
    for body in texts:
        for pattern in CANARIES:
            assert not pattern.search(body), f"a private value leaked: {body[:300]}"


def _acme(client: TestClient) -> tuple[Member, str]:
    acme = make_company(client, "Acme", domain="acme.example")
    put_template(
        client,
        acme,
        {"key": "amount", "visibility": "private"},
        {"key": "note", "label": "Note", "type": "text", "visibility": "private"},
        {
            "key": "shared_note",
            "label": "Shared note",
            "type": "text",
            "visibility": "participants",
        },
    )
    deal = create_record(client, acme, "Data platform")
    fill_space(client, acme, deal, amount=CANARY_AMOUNT, note=CANARY_NOTE, shared_note=SHARED_NOTE)
    return acme, deal


def _invite(browser: Browser, page: str, email: str = SAM, **extra: str) -> httpx.Response:
    return browser.submit(
        page,
        "/invites",
        {"name": "Sam Rivera", "email": email, "company_name": "Northwind", **extra},
    )


def _csrf(page: Page) -> str:
    token = next(f.fields()["csrf_token"] for f in page.forms() if "csrf_token" in f.fields())
    assert isinstance(token, str)
    return token


def _path(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def test_the_invitee_signs_up_from_the_link_and_lands_on_the_invitation_view(
    browser: Browser, new_browser: Callable[[], Browser], client: TestClient, inbox: Inbox
) -> None:
    acme, deal = _acme(client)
    browser.login(acme.email)
    sent = _invite(browser, f"/opportunities/{deal}", message="Let's win this together")
    assert sent.url.path == "/invites"
    assert any("Invitation e-mailed to Sam Rivera" in f for f in parse(sent.text).flashes())

    mail = inbox.wait_for(SAM)
    assert "(Acme) invited you to join the opportunity “Data platform” with Acme" in mail["Subject"]
    body = text_of(mail)
    assert "Let's win this together" in body
    assert mail.get_body(preferencelist=("html",)) is not None
    _clean(mail["Subject"], body)
    link = _path(link_in(mail, "/invites/accept"))

    sam = new_browser()
    signup = sam.page(link)
    assert "invited you to join the opportunity “Data platform” with Acme" in signup.h1[0]
    fields = signup.form("/invites/accept").fields()
    assert fields["company.name"] == "Northwind"
    assert fields["company.domain"] == "northwind.example"
    assert fields["user.name"] == "Sam Rivera"
    email_box = signup.root.by_id("f-user-email")
    assert email_box is not None
    assert email_box.attrs.get("value") == SAM
    assert "readonly" in email_box.attrs
    _clean(signup.text)

    # the posted address is ignored: the account is the invited one
    joined = sam.submit(
        link, "/invites/accept", {"user.password": PASSWORD, "user.email": "other@evil.example"}
    )
    assert joined.url.path == f"/opportunities/{deal}"
    view = parse(joined.text)
    assert view.h1 == ["Data platform"]
    assert "Accept and join" in view.text
    assert SHARED_NOTE not in view.text
    _clean(joined.text)
    bell = sam.page("/notifications")
    assert "invited your company to join the opportunity “Data platform”" in bell.text

    accepted = sam.submit(f"/opportunities/{deal}", f"/opportunities/{deal}/accept")
    assert accepted.url.path == f"/opportunities/{deal}"
    assert SHARED_NOTE in accepted.text
    _clean(accepted.text)
    [told] = notifications_of(client, acme)
    assert told["event"] == "invitation_accepted"
    assert "(Northwind) accepted your invitation to the opportunity “Data platform”" in told["text"]

    used = new_browser().page(link, status=400)
    assert "already used" in used.text
    listed = browser.page("/invites")
    assert "Signed up" in listed.text


def test_a_tampered_link_is_refused_with_what_to_do_next(
    browser: Browser, client: TestClient, inbox: Inbox
) -> None:
    acme, deal = _acme(client)
    browser.login(acme.email)
    _invite(browser, f"/opportunities/{deal}")
    link = _path(link_in(inbox.wait_for(SAM), "/invites/accept"))
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    page = browser.page(tampered, status=400)
    assert "This invitation link is not valid." in page.text
    assert "send a new invitation" in page.text
    assert browser.page("/invites/accept?token=", status=400).h1 == ["Invalid invitation link"]


def test_a_revoked_or_expired_invitation_is_dead(
    browser: Browser,
    new_browser: Callable[[], Browser],
    client: TestClient,
    inbox: Inbox,
    app: FastAPI,
) -> None:
    acme, _deal = _acme(client)
    browser.login(acme.email)
    sent = _invite(browser, "/network")
    assert sent.url.path == "/invites"
    link = _path(link_in(inbox.wait_for(SAM), "/invites/accept"))
    assert "invited you to partner with Acme" in inbox.wait_for(SAM)["Subject"]
    revoke = next(f for f in browser.page("/invites").forms() if f.action.endswith("/revoke"))
    done = browser.submit("/invites", revoke.action)
    assert any("its link is dead" in f for f in parse(done.text).flashes())
    refused = new_browser().page(link, status=400)
    assert "This invitation was withdrawn." in refused.text
    # a posted signup with the dead link creates nothing
    stranger = new_browser()
    posted = stranger.client.post(
        "/invites/accept",
        data={
            "token": link.split("token=", 1)[1],
            "company.name": "Northwind",
            "company.domain": "northwind.example",
            "user.name": "Sam Rivera",
            "user.password": PASSWORD,
            "csrf_token": _csrf(stranger.page("/login")),
        },
    )
    assert posted.status_code == 400
    assert "This invitation was withdrawn." in posted.text
    assert (
        client.post("/api/v1/auth/token", json={"email": SAM, "password": PASSWORD}).status_code
        == 401
    )

    inbox.clear()
    other = "lee@contoso.example"
    _invite(browser, "/network", email=other)
    second = _path(link_in(inbox.wait_for(other), "/invites/accept"))
    with system_connection(app.state.engine) as connection:
        connection.execute(
            update(EmailInvite)
            .where(EmailInvite.email == other)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    expired = new_browser().page(second, status=400)
    assert "This invitation link has expired." in expired.text


def test_only_the_owner_invites_someone_new_onto_a_record(
    browser: Browser, new_browser: Callable[[], Browser], client: TestClient, inbox: Inbox
) -> None:
    acme, deal = _acme(client)
    globex = make_company(client, "Globex", domain="globex.example")
    make_partnership(client, acme, globex)
    share_record(client, acme, deal, globex)
    partner = new_browser()
    partner.login(globex.email)
    record_page = partner.page(f"/opportunities/{deal}")
    assert record_page.root.by_id("invite-email") is None  # no dialog for a non-admitting partner
    refused = partner.client.post(
        "/invites",
        data={
            "kind": "opportunity",
            "record_id": deal,
            "name": "Sam Rivera",
            "email": SAM,
            "csrf_token": _csrf(record_page),
        },
    )
    assert refused.status_code == 403
    assert "Only the record's owner" in parse(refused.text).errors()["form"]
    assert inbox.to(SAM) == []
    # the owner may
    browser.login(acme.email)
    assert browser.page(f"/opportunities/{deal}").root.by_id("invite-email") is not None
    assert _invite(browser, f"/opportunities/{deal}").url.path == "/invites"
    inbox.wait_for(SAM)


def test_an_address_of_a_company_on_the_network_becomes_a_normal_invitation(
    browser: Browser, client: TestClient, inbox: Inbox
) -> None:
    acme, _deal = _acme(client)
    globex = make_company(client, "Globex", domain="globex.example")
    browser.login(acme.email)
    inbox.clear()
    sent = _invite(browser, "/network", email="pat@emea.globex.example")
    assert sent.url.path == "/network"
    assert any("Globex is already on Coterie" in f for f in parse(sent.text).flashes())
    assert inbox.to("pat@emea.globex.example") == []
    assert [n["event"] for n in notifications_of(client, globex)] == ["partnership_invitation"]
    own = _invite(browser, "/network", email="someone@acme.example")
    assert own.status_code == 422
    assert "your own company" in parse(own.text).errors()["email"]


def test_bad_input_and_the_daily_cap_answer_next_to_the_form(
    browser: Browser, client: TestClient, inbox: Inbox, settings: Settings
) -> None:
    acme, _deal = _acme(client)
    browser.login(acme.email)
    bad = _invite(browser, "/invites/new", email="not-an-address", name="")
    assert bad.status_code == 422
    errors = parse(bad.text).errors()
    assert set(errors) >= {"name", "email"}
    assert parse(bad.text).form("/invites").fields()["company_name"] == "Northwind"

    settings.email_invites_per_day = 2
    for n in range(2):
        assert _invite(browser, "/network", email=f"p{n}@new{n}.example").url.path == "/invites"
    capped = _invite(browser, "/network", email="p3@new3.example")
    assert capped.status_code == 429
    assert "Try again tomorrow" in parse(capped.text).errors()["form"]
    assert inbox.to("p3@new3.example") == []


def test_a_weak_password_keeps_the_link_usable(
    browser: Browser, new_browser: Callable[[], Browser], client: TestClient, inbox: Inbox
) -> None:
    acme, deal = _acme(client)
    browser.login(acme.email)
    _invite(browser, f"/opportunities/{deal}")
    link = _path(link_in(inbox.wait_for(SAM), "/invites/accept"))
    sam = new_browser()
    weak = sam.submit(link, "/invites/accept", {"user.password": "short"})
    assert weak.status_code == 422
    assert "user.password" in parse(weak.text).errors()
    joined = sam.submit(link, "/invites/accept", {"user.password": PASSWORD})
    assert joined.url.path == f"/opportunities/{deal}"
