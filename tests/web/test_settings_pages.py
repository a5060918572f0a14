"""Settings pages: company profile, users and invitations, API tokens, preferences; isolation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from coterie.db import utcnow
from coterie.models import Invitation
from tests.fixtures.builders import PASSWORD, make_colleague, make_company
from tests.fixtures.smtp import Inbox, link_in
from tests.web.conftest import Browser
from tests.web.html import parse
from tests.web.test_network_pages import signed_in


def test_admin_edits_the_company_profile(browser: Browser) -> None:
    browser.signup("Profile Co")
    saved = browser.submit(
        "/settings/company",
        "/settings/company",
        {
            "description": "We build data platforms.",
            "industry": "software",
            "regions": ["emea", "apac"],
            "partner_types": ["isv"],
            "hq_country": "DE",
            "currency": "EUR",
            "size": "51-200",
            "website": "https://profile.example",
        },
    )
    assert saved.url.path == "/settings/company"
    page = parse(saved.text)
    assert "Company profile saved." in page.flashes()
    fields = page.form("/settings/company").fields()
    assert sorted(fields["regions"]) == ["apac", "emea"]
    assert fields["partner_types"] == "isv"
    assert fields["hq_country"] == "DE"
    assert fields["currency"] == "EUR"
    assert fields["description"] == "We build data platforms."
    card = browser.page("/directory?q=profile").root.find("article")
    assert card is not None
    assert "Software" in card.text
    assert "EMEA" in card.text

    cleared = browser.submit(
        "/settings/company", "/settings/company", {"regions": [], "industry": ""}
    )
    fields = parse(cleared.text).form("/settings/company").fields()
    assert "regions" not in fields
    assert fields["industry"] == ""


def test_company_profile_errors_are_shown_next_to_the_fields(browser: Browser) -> None:
    browser.signup("Errors Co")
    response = browser.submit(
        "/settings/company",
        "/settings/company",
        {"name": "", "hq_country": "XX", "description": "Kept text"},
    )
    assert response.status_code == 422
    page = parse(response.text)
    errors = page.errors()
    assert "name" in errors
    assert "hq_country" in errors
    assert page.form("/settings/company").fields()["description"] == "Kept text"
    assert "Errors Co" in browser.page("/").text  # nothing was saved


def test_members_see_the_company_profile_read_only(
    client: TestClient, new_browser: Callable[[], Browser], inbox: Inbox
) -> None:
    admin = make_company(client, "Readonly Inc")
    member = make_colleague(client, admin, "member", inbox=inbox)
    browser = signed_in(new_browser, member)
    page = browser.page("/settings/company")
    assert "Only admins of Readonly Inc can edit the profile." in page.text
    fieldset = page.root.find("fieldset", class_="plain-fieldset")
    assert fieldset is not None
    assert "disabled" in fieldset.attrs
    token = page.form("/logout").fields()["csrf_token"]
    refused = browser.client.post(
        "/settings/company", data={"csrf_token": token, "name": "Hijacked"}
    )
    assert refused.status_code == 403
    assert "Only a company admin" in parse(refused.text).errors()["form"]
    assert "Hijacked" not in browser.page("/").text


def test_invite_a_colleague_who_accepts_and_is_signed_in(
    browser: Browser, new_browser: Callable[[], Browser], inbox: Inbox
) -> None:
    browser.signup("Invite Co")
    sent = browser.submit(
        "/settings/users",
        "/settings/invitations",
        {"email": "Nia@Invite.example", "role": "manager"},
    )
    assert sent.url.path == "/settings/users"
    page = parse(sent.text)
    assert any("Invitation sent to nia@invite.example" in f for f in page.flashes())
    invitations = page.root.find("section", aria_labelledby="invitations-title")
    assert invitations is not None
    assert "nia@invite.example" in invitations.text
    assert "Pending" in invitations.text

    link = link_in(inbox.wait_for("nia@invite.example"), "/invitations/accept")
    nia = new_browser()
    accept_page = nia.page(link)
    assert accept_page.h1 == ["Join Invite Co on Coterie"]
    assert "nia@invite.example" in accept_page.text
    assert "manager" in accept_page.text

    weak = nia.submit(link, "/invitations/accept", {"name": "Nia Noor", "password": "invite co"})
    assert weak.status_code == 422
    weak_page = parse(weak.text)
    assert "password" in weak_page.errors()
    assert weak_page.form("/invitations/accept").fields()["name"] == "Nia Noor"

    joined = nia.submit(link, "/invitations/accept", {"name": "Nia Noor", "password": PASSWORD})
    assert joined.url.path == "/"
    home = parse(joined.text)
    assert home.root.find("span", class_="user-name").text == "Nia Noor"
    assert any("Welcome to Invite Co" in f for f in home.flashes())

    users = browser.page("/settings/users")
    assert "Nia Noor" in users.text
    assert "Accepted" in users.root.find("section", aria_labelledby="invitations-title").text

    reused = new_browser().get(link)
    assert reused.status_code == 400
    assert parse(reused.text).h1 == ["Invitation already used"]


def test_invitation_form_errors(browser: Browser) -> None:
    _company, email = browser.signup("Form Errors Co")
    bad = browser.submit("/settings/users", "/settings/invitations", {"email": "not-an-email"})
    assert bad.status_code == 422
    assert "email" in parse(bad.text).errors()
    assert parse(bad.text).form("/settings/invitations").fields()["email"] == "not-an-email"
    taken = browser.submit("/settings/users", "/settings/invitations", {"email": email})
    assert taken.status_code == 409
    assert "already has a Coterie account" in parse(taken.text).errors()["email"]
    odd_role = browser.submit(
        "/settings/users", "/settings/invitations", {"email": "x@y.example", "role": "emperor"}
    )
    assert odd_role.status_code == 422
    assert "role" in parse(odd_role.text).errors()


def test_revoked_and_expired_invitation_links_explain_themselves(
    browser: Browser, new_browser: Callable[[], Browser], inbox: Inbox, engine: Engine
) -> None:
    browser.signup("Links Co")
    browser.submit("/settings/users", "/settings/invitations", {"email": "rev@links.example"})
    browser.submit("/settings/users", "/settings/invitations", {"email": "old@links.example"})
    revoked_link = link_in(inbox.wait_for("rev@links.example"), "/invitations/accept")
    old_link = link_in(inbox.wait_for("old@links.example"), "/invitations/accept")

    users = browser.page("/settings/users")
    revoke = next(
        f for f in users.forms() if f.action.endswith("/revoke") and "rev@links.example" in f.text
    )
    done = browser.submit("/settings/users", revoke.action, containing="rev@links.example")
    assert any("rev@links.example is revoked" in f for f in parse(done.text).flashes())

    visitor = new_browser()
    revoked = visitor.get(revoked_link)
    assert revoked.status_code == 400
    assert parse(revoked.text).h1 == ["Invitation revoked"]
    assert "withdrawn" in parse(revoked.text).text

    with engine.begin() as conn:
        conn.execute(
            update(Invitation)
            .where(Invitation.email == "old@links.example")
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    expired = visitor.get(old_link)
    assert expired.status_code == 400
    assert parse(expired.text).h1 == ["Token expired"]

    forged = visitor.get("/invitations/accept?token=nonsense")
    assert forged.status_code == 400
    assert parse(forged.text).h1 == ["Invalid token"]


def test_admin_changes_roles_and_deactivates_users(
    client: TestClient, new_browser: Callable[[], Browser], inbox: Inbox
) -> None:
    admin = make_company(client, "Roles Co")
    make_company(client, "Roles Partner")
    colleague = make_colleague(client, admin, "member", inbox=inbox)
    admin_browser = signed_in(new_browser, admin)
    colleague_browser = signed_in(new_browser, colleague)

    action = f"/settings/users/{colleague.user_id}"
    assert not colleague_browser.page("/directory").forms("/network/partnerships")
    promoted = admin_browser.submit(
        "/settings/users", action, {"role": "manager"}, containing="Save"
    )
    assert any("is now manager (active)" in f for f in parse(promoted.text).flashes())
    assert colleague_browser.page("/directory").forms("/network/partnerships")  # may invite now

    deactivated = admin_browser.submit("/settings/users", action, containing="Deactivate")
    assert any("deactivated" in f for f in parse(deactivated.text).flashes())
    assert colleague_browser.get("/", follow_redirects=False).status_code == 303
    assert colleague_browser.login(colleague.email).status_code == 400

    self_demotion = admin_browser.submit(
        "/settings/users", f"/settings/users/{admin.user_id}", {"role": "member"}, containing="Save"
    )
    assert any("last active admin" in f for f in parse(self_demotion.text).flashes())
    me = client.get("/api/v1/me", headers=admin.headers).json()
    assert me["user"]["role"] == "admin"


def test_tokens_page_shows_the_secret_once(browser: Browser, client: TestClient) -> None:
    browser.signup("Tokens Co")
    empty = browser.submit("/settings/tokens", "/settings/tokens", {"name": ""})
    assert empty.status_code == 422
    assert "name" in parse(empty.text).errors()

    created = browser.submit(
        "/settings/tokens", "/settings/tokens", {"name": "CRM sync", "expires_in_days": "30"}
    )
    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"
    page = parse(created.text)
    secret_input = page.root.by_id("new-token")
    assert secret_input is not None
    secret = secret_input.attrs["value"]
    assert secret.startswith("ctp_")
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    )

    again = browser.page("/settings/tokens")
    assert secret not in again.html
    row = again.root.find("tbody").text
    assert "CRM sync" in row
    assert secret[:10] in row

    revoke = next(f for f in again.forms() if f.action.endswith("/revoke"))
    revoked = browser.submit("/settings/tokens", revoke.action)
    assert any("is revoked" in f for f in parse(revoked.text).flashes())
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    )
    assert "CRM sync" not in browser.page("/settings/tokens").main_text.split("Active tokens")[1]


def test_hide_private_toggle_persists_and_shows_a_badge(browser: Browser) -> None:
    browser.signup("Private Co")
    assert "Private fields hidden" not in browser.page("/").text
    on = browser.submit("/directory?q=private", "/preferences/hide-private")
    assert on.url.path == "/directory"
    assert on.url.params["q"] == "private"
    for path in ("/", "/network", "/settings/tokens", "/companies/" + "0" * 32):
        response = browser.get(path)
        page = parse(response.text)
        badge = page.root.by_id("private-badge")
        assert badge is not None, path
        assert badge.text == "Private fields hidden", path
    prefs = browser.page("/settings/preferences")
    box = prefs.root.by_id("f-hide-private-fields")
    assert box is not None
    assert "checked" in box.attrs

    off = browser.submit("/", "/preferences/hide-private")
    assert parse(off.text).root.by_id("private-badge") is None
    assert (
        "checked"
        not in browser.page("/settings/preferences").root.by_id("f-hide-private-fields").attrs
    )


def test_preferences_page_saves_and_validates(browser: Browser) -> None:
    browser.signup("Prefs Co")
    saved = browser.submit(
        "/settings/preferences",
        "/settings/preferences",
        {"timezone": "Europe/Paris", "email_notifications": "daily"},
    )
    page = parse(saved.text)
    assert "Preferences saved." in page.flashes()
    fields = page.form("/settings/preferences").fields()
    assert fields["timezone"] == "Europe/Paris"
    assert fields["email_notifications"] == "daily"
    assert "hide_private_fields" not in fields

    bad = browser.submit(
        "/settings/preferences", "/settings/preferences", {"timezone": "Mars/Olympus"}
    )
    assert bad.status_code == 422
    assert "IANA" in parse(bad.text).errors()["timezone"]
    assert (
        parse(browser.get("/settings/preferences").text)
        .form("/settings/preferences")
        .fields()["timezone"]
        == "Europe/Paris"
    )


def test_a_company_never_sees_or_touches_another_companys_settings(
    client: TestClient, new_browser: Callable[[], Browser], inbox: Inbox
) -> None:
    a = make_company(client, "Company A")
    b = make_company(client, "Company B")
    b_colleague = make_colleague(client, b, "member", inbox=inbox)
    b_invitation = client.post(
        "/api/v1/invitations", json={"email": "pending@b.example"}, headers=b.headers
    ).json()
    b_token = client.post("/api/v1/tokens", json={"name": "B secret job"}, headers=b.headers).json()

    browser = signed_in(new_browser, a)
    users = browser.page("/settings/users")
    for foreign in (b.email, b_colleague.email, "pending@b.example"):
        assert foreign not in users.html
    tokens = browser.page("/settings/tokens")
    assert "B secret job" not in tokens.html

    for action, data in (
        (f"/settings/users/{b_colleague.user_id}", {"is_active": "false"}),
        (f"/settings/users/{b_colleague.user_id}", {"role": "admin"}),
        (f"/settings/invitations/{b_invitation['id']}/revoke", {}),
        (f"/settings/tokens/{b_token['id']}/revoke", {}),
    ):
        token = users.form("/logout").fields()["csrf_token"]
        response = browser.client.post(action, data={"csrf_token": token, **data})
        assert response.status_code == 200
        assert any("No " in f and "visible to you" in f for f in parse(response.text).flashes()), (
            action
        )

    assert client.get("/api/v1/me", headers=b_colleague.headers).json()["user"]["role"] == "member"
    invitations = client.get("/api/v1/invitations", headers=b.headers).json()["items"]
    assert [i["status"] for i in invitations if i["email"] == "pending@b.example"] == ["pending"]
    assert (
        client.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {b_token['token']}"}
        ).status_code
        == 200
    )
