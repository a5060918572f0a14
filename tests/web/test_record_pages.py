"""Shared-record pages driven like a browser: lists, the record page, inline edits with htmx,
participants, and the proof that a private value never reaches another company's HTML."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.fixtures.builders import Member, make_colleague, make_company, make_partnership
from tests.fixtures.records import OPPS, accept, fill_space, invite, put_template
from tests.fixtures.smtp import Inbox
from tests.web.conftest import Browser
from tests.web.html import Page, parse
from tests.web.test_network_pages import signed_in

CANARY = "CANARY-7f3a-do-not-leak"


def api_opportunity(client: TestClient, who: Member, title: str, **fields: Any) -> str:
    response = client.post(
        OPPS,
        json={"title": title, "customer_name": f"{title} Customer", "fields": fields},
        headers=who.headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def htmx(browser: Browser, page_url: str) -> dict[str, str]:
    token = browser.page(page_url).form("/logout").fields()["csrf_token"]
    return {
        "HX-Request": "true",
        "HX-Current-URL": f"http://testserver{page_url}",
        "X-CSRF-Token": str(token),
    }


def space_form(page: Page) -> dict[str, Any]:
    forms = [f for f in page.forms() if f.action.endswith("/space")]
    assert forms, "no space form on the page"
    return dict(forms[0].fields())


def section(page: Page, element_id: str) -> str:
    found = page.root.by_id(element_id)
    assert found is not None, element_id
    return found.text


# -- lists and creating records ---------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client: TestClient) -> None:
    for path in (
        "/opportunities",
        "/leads",
        "/accounts",
        f"/opportunities/{uuid.uuid4()}",
        "/settings/templates/opportunity",
        "/settings/rules",
        "/settings/teams",
    ):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next="), path


def test_create_an_opportunity_through_the_form(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme", currency="EUR")
    browser = signed_in(new_browser, acme)
    listing = browser.page("/opportunities")
    assert listing.h1 == ["Opportunities"]
    assert "No opportunities yet." in listing.text
    nav = listing.root.find("nav", aria_label="Main")
    assert nav is not None
    assert {"/opportunities", "/leads", "/accounts"} <= {a.attrs["href"] for a in nav.iter("a")}

    created = browser.submit(
        "/opportunities",
        "/opportunities",
        {
            "title": "Contoso rollout",
            "customer_name": "Contoso",
            "customer_domain": "https://www.contoso.example/",
            "motion": "co-sell",
            "description": "Phase one: EMEA.",
            "field.amount": "125,000",
            "field.stage": "Qualify",
            "field.close_date": "2026-09-30",
            "field.region": "emea",
        },
    )
    assert created.status_code == 200, created.text[:2000]
    page = parse(created.text)
    assert created.url.path.startswith("/opportunities/")
    assert "Opportunity “Contoso rollout” created." in page.flashes()
    assert page.h1 == ["Contoso rollout"]
    core = section(page, "record-core")
    assert "contoso.example" in core
    assert "Co-sell" in core
    assert "Phase one: EMEA." in core
    space = page.root.by_id("my-space")
    assert space is not None
    assert "EUR 125,000.00" in space.text
    assert "30 Sep 2026" in space.text
    assert "EMEA" in space.text
    # every field starts private: a lock with accessible text on each
    assert space.text.count("Private: only your company sees this") >= 8

    row = browser.page("/opportunities").root.find("table")
    assert row is not None
    text = row.text
    assert "Contoso rollout" in text
    assert "Qualify" in text
    assert "EUR 125,000.00" in text
    assert "30 Sep 2026" in text
    assert "Acme" in text


def test_new_record_form_explains_bad_input_next_to_fields(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    browser = signed_in(new_browser, acme)
    response = browser.submit(
        "/opportunities", "/opportunities", {"title": "  ", "customer_domain": "not a domain"}
    )
    assert response.status_code == 422
    errors = parse(response.text).errors()
    assert errors["title"] == "This field is required."
    assert "domain name" in errors["customer_domain"]

    response = browser.submit(
        "/opportunities",
        "/opportunities",
        {"title": "Bad values", "field.amount": "lots", "field.close_date": "2026-02-30"},
    )
    assert response.status_code == 422
    page = parse(response.text)
    errors = page.errors()
    assert "number" in errors["field.amount"]
    # the submitted values are kept in the reopened form
    form = page.form("/opportunities")
    assert form.fields()["title"] == "Bad values"
    assert form.fields()["field.amount"] == "lots"
    assert client.get(OPPS, headers=acme.headers).json()["items"] == []


def test_list_pages_with_a_cursor(client: TestClient, new_browser: Callable[[], Browser]) -> None:
    acme = make_company(client, "Acme")
    for n in range(27):
        api_opportunity(client, acme, f"Deal {n:02d}")
    browser = signed_in(new_browser, acme)
    first = browser.page("/opportunities")
    links = [a for a in first.root.find_all("a") if "record-link" in a.classes()]
    assert len(links) == 25
    next_link = first.root.find("a", rel="next")
    assert next_link is not None
    second = browser.page(next_link.attrs["href"])
    more = [a for a in second.root.find_all("a") if "record-link" in a.classes()]
    assert len(more) == 2
    assert {a.text for a in links}.isdisjoint(a.text for a in more)
    stale = browser.page("/opportunities?cursor=bogus")
    assert "no longer valid" in stale.text


# -- the record page: inline edits ------------------------------------------------------------


def test_edit_my_space_in_place_with_htmx(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme", currency="USD")
    record_id = api_opportunity(client, acme, "Inline", stage="Discover", amount=100)
    browser = signed_in(new_browser, acme)
    url = f"/opportunities/{record_id}"
    headers = htmx(browser, url)

    editing = browser.client.get(f"{url}/space/edit", headers=headers)
    assert editing.status_code == 200
    assert "<html" not in editing.text
    fragment = parse(editing.text)
    form = space_form(fragment)
    assert form["field.stage"] == "Discover"
    assert form["field.amount"] == "100.00"
    assert form["version"] == "1"

    saved = browser.client.post(
        f"{url}/space", data=form | {"field.stage": "Negotiate"}, headers=headers
    )
    assert saved.status_code == 200, saved.text
    assert "<html" not in saved.text
    view = parse(saved.text).root.find("section", id="my-space")
    assert view is not None
    assert "Negotiate" in view.text
    assert "Your space is saved." in view.text
    body = client.get(f"{OPPS}/{record_id}", headers=acme.headers).json()
    mine = body["spaces"][0]
    assert mine["fields"]["stage"] == "Negotiate"
    assert mine["fields"]["amount"] == {"value": "100.00", "currency": "USD"}
    assert mine["version"] == 2

    # the same (now stale) form again: a clear conflict, never a 500, nothing overwritten
    fill_space(client, acme, record_id, stage="Closed won")
    stale = browser.client.post(
        f"{url}/space", data=form | {"field.stage": "Propose"}, headers=headers
    )
    assert stale.status_code == 409
    conflict = parse(stale.text)
    assert "Not saved" in conflict.text
    assert "Stage: Propose" in conflict.text
    assert space_form(conflict)["field.stage"] == "Closed won"
    assert space_form(conflict)["version"] == "3"
    body = client.get(f"{OPPS}/{record_id}", headers=acme.headers).json()
    assert body["spaces"][0]["fields"]["stage"] == "Closed won"

    # bad input: the form comes back with the message next to the field
    fresh = space_form(parse(browser.client.get(f"{url}/space/edit", headers=headers).text))
    bad = browser.client.post(
        f"{url}/space", data=fresh | {"field.close_date": "2026-13-01"}, headers=headers
    )
    assert bad.status_code == 422
    assert "date" in parse(bad.text).errors()["field.close_date"]
    bad = browser.client.post(
        f"{url}/space", data=fresh | {"field.amount.currency": "XYZ"}, headers=headers
    )
    assert bad.status_code == 422
    assert "currency code" in parse(bad.text).errors()["field.amount"]
    assert space_form(parse(bad.text))["field.amount.currency"] == "XYZ"

    # without htmx the same endpoint redirects back to the page with a message
    plain = browser.client.post(
        f"{url}/space", data=fresh | {"field.stage": "Verbal"}, follow_redirects=True
    )
    assert plain.url.path == url
    assert "Your space is saved." in parse(plain.text).flashes()
    # and a fragment URL opened as a page shows the page with the form open
    opened = browser.page(f"{url}/space/edit")
    assert space_form(opened)["field.stage"] == "Verbal"


def test_owner_edits_the_shared_core_and_stale_versions_conflict(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    globex = make_company(client, "Globex")
    make_partnership(client, acme, globex)
    record_id = api_opportunity(client, acme, "Core deal")
    invite(client, acme, record_id, globex)
    accept(client, globex, record_id)
    url = f"/opportunities/{record_id}"

    owner = signed_in(new_browser, acme)
    headers = htmx(owner, url)
    form = dict(
        parse(owner.client.get(f"{url}/core/edit", headers=headers).text)
        .form(f"{url}/core")
        .fields()
    )
    assert form["title"] == "Core deal"
    saved = owner.client.post(
        f"{url}/core", data=form | {"title": "Core deal (EMEA)"}, headers=headers
    )
    assert saved.status_code == 200
    assert "Core deal (EMEA)" in parse(saved.text).root.find("h1").text
    stale = owner.client.post(f"{url}/core", data=form | {"joint_stage": "Won"}, headers=headers)
    assert stale.status_code == 409
    assert "Not saved" in stale.text
    assert "Joint stage: Won" in parse(stale.text).text
    empty_title = owner.client.post(
        f"{url}/core",
        data=dict(parse(stale.text).form(f"{url}/core").fields()) | {"title": ""},
        headers=headers,
    )
    assert empty_title.status_code == 422
    assert parse(empty_title.text).errors()["title"] == "This field is required."

    partner = signed_in(new_browser, globex)
    page = partner.page(url)
    assert "Core deal (EMEA)" in page.h1
    assert not [a for a in page.links() if a.endswith("?edit=core#record-core")]
    refused = partner.client.post(
        f"{url}/core",
        data=form | {"version": "2", "title": "Hijacked"},
        headers=htmx(partner, url),
    )
    assert refused.status_code == 403
    assert "Only the owner company" in refused.text
    assert client.get(f"{OPPS}/{record_id}", headers=acme.headers).json()["title"] == (
        "Core deal (EMEA)"
    )


# -- participants -----------------------------------------------------------------------------


def test_invite_accept_and_see_what_the_partner_shares(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme Cloud")
    globex = make_company(client, "Globex")
    make_partnership(client, acme, globex)
    put_template(client, acme, {"key": "amount", "visibility": "participants"})
    record_id = api_opportunity(
        client, acme, "Joint deal", amount=50000, stage="Acme-private-stage"
    )
    url = f"/opportunities/{record_id}"

    owner = signed_in(new_browser, acme)
    invited = owner.submit(url, f"{url}/participants", {"company_id": globex.company_id})
    assert any("Globex is invited" in f for f in parse(invited.text).flashes())
    assert "Invited" in section(parse(invited.text), "participants")

    partner = signed_in(new_browser, globex)
    # not before accepting: the record's address shows only the invitation view
    invitation = partner.page(url)
    assert invitation.h1 == ["Joint deal"]
    assert "Invited by" in invitation.text
    assert "50,000" not in invitation.text
    assert "Acme-private-stage" not in invitation.text
    listing = partner.page("/opportunities")
    box = listing.root.by_id("invitations")
    assert box is not None
    assert "Joint deal" in box.text
    assert "Joint deal Customer" in box.text
    assert "Invited by Acme Cloud" in box.text
    assert "50,000" not in listing.text

    accepted = partner.submit("/opportunities", f"{url}/accept")
    assert accepted.url.path == url
    page = parse(accepted.text)
    assert any("You joined “Joint deal”" in f for f in page.flashes())
    partners = page.root.by_id("partner-spaces")
    assert partners is not None
    assert "Acme Cloud" in partners.text
    assert "USD 50,000.00" in partners.text
    assert "Acme-private-stage" not in page.html
    assert "Private: only your company sees this" not in partners.text  # read-only, lock-free
    assert not partners.find_all("form")
    assert "AC" in partners.text  # the initials avatar
    assert "Joint deal" in partner.page("/opportunities").root.find("table").text
    assert "USD 50,000.00" in partner.page("/opportunities").root.find("table").text

    # the owner sees the partner active and may remove it; the partner may leave
    people = owner.page(url).root.by_id("participants")
    assert people is not None
    assert "Globex" in people.text
    assert "Active" in people.text
    left = partner.submit(url, f"{url}/participants/{globex.company_id}/remove")
    assert left.url.path == "/opportunities"
    assert any("Globex left “Joint deal”" in f for f in parse(left.text).flashes())
    assert partner.get(url).status_code == 404
    assert "Left" in section(owner.page(url), "participants")


def test_decline_and_owner_removal(client: TestClient, new_browser: Callable[[], Browser]) -> None:
    acme = make_company(client, "Acme")
    globex = make_company(client, "Globex")
    initech = make_company(client, "Initech")
    make_partnership(client, acme, globex)
    make_partnership(client, acme, initech)
    one = api_opportunity(client, acme, "Declined deal")
    two = api_opportunity(client, acme, "Removed deal")
    invite(client, acme, one, globex)
    invite(client, acme, two, initech)
    accept(client, initech, two)

    partner = signed_in(new_browser, globex)
    declined = partner.submit("/opportunities", f"/opportunities/{one}/decline")
    assert "You declined the invitation to “Declined deal”." in parse(declined.text).flashes()
    assert parse(declined.text).root.by_id("invitations") is None

    owner = signed_in(new_browser, acme)
    url = f"/opportunities/{two}"
    removed = owner.submit(url, f"{url}/participants/{initech.company_id}/remove")
    assert "Initech is no longer on this record." in parse(removed.text).flashes()
    third = signed_in(new_browser, initech)
    assert third.get(url).status_code == 404
    # a refused action is a message, not an error page
    again = owner.submit(url, f"{url}/participants", {"company_id": "not-a-uuid"})
    assert "Choose a partner company" in " ".join(parse(again.text).flashes())


# -- templates change what partners see -------------------------------------------------------


def test_template_editor_changes_what_a_partner_page_shows(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    globex = make_company(client, "Globex")
    initech = make_company(client, "Initech")
    make_partnership(client, acme, globex)
    make_partnership(client, acme, initech)
    record_id = api_opportunity(client, acme, "Visibility deal", stage="Stage-visible-to-some")
    for partner in (globex, initech):
        invite(client, acme, record_id, partner)
        accept(client, partner, record_id)
    url = f"/opportunities/{record_id}"
    admin = signed_in(new_browser, acme)
    globex_view = signed_in(new_browser, globex)
    initech_view = signed_in(new_browser, initech)
    assert "Stage-visible-to-some" not in globex_view.page(url).html

    editor = admin.page("/settings/templates/opportunity")
    assert "Fields of your opportunity space" in editor.text
    saved = admin.submit(
        "/settings/templates/opportunity",
        "/settings/templates/opportunity",
        {"vis.stage": "companies", "aud.stage": [globex.company_id]},
    )
    assert "Visibility saved." in " ".join(parse(saved.text).flashes())
    assert "Stage-visible-to-some" in globex_view.page(url).html
    assert "Stage-visible-to-some" not in initech_view.page(url).html
    mine = admin.page(url).root.by_id("my-space")
    assert mine is not None
    assert "Shared with 1 company" in mine.text
    assert "Globex" in mine.text

    # "chosen companies" without a company: a message next to the field, nothing saved
    refused = admin.submit(
        "/settings/templates/opportunity",
        "/settings/templates/opportunity",
        {"vis.region": "companies", "aud.region": []},
    )
    assert refused.status_code == 422
    assert "at least one company" in parse(refused.text).errors()["aud.region"]

    back = admin.submit(
        "/settings/templates/opportunity",
        "/settings/templates/opportunity",
        {"vis.stage": "private", "aud.stage": []},
    )
    assert back.status_code == 200
    assert "Stage-visible-to-some" not in globex_view.page(url).html


def test_template_editor_adds_removes_and_restores_custom_fields(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    admin = signed_in(new_browser, acme)
    page = "/settings/templates/opportunity"
    action = "/settings/templates/opportunity/fields"
    added = admin.submit(
        page,
        action,
        {
            "key": "tier",
            "label": "Partner tier",
            "type": "enum",
            "options": "Gold\nSilver\n",
            "default": "Silver",
            "visibility": "participants",
        },
    )
    assert "Added the field “Partner tier”." in parse(added.text).flashes()
    body = client.get("/api/v1/templates/opportunity", headers=acme.headers).json()
    tier = next(f for f in body["fields"] if f["key"] == "tier")
    assert tier["options"] == [
        {"key": "gold", "label": "Gold"},
        {"key": "silver", "label": "Silver"},
    ]
    assert tier["default"] == "silver"
    assert tier["visibility"] == "participants"

    bad = admin.submit(page, action, {"key": "amount", "type": "text"})
    assert bad.status_code == 422
    assert "standard field" in parse(bad.text).errors()["key"]
    bad = admin.submit(page, action, {"key": "size", "type": "enum", "options": ""})
    assert "options" in parse(bad.text).errors()["options"]
    bad = admin.submit(page, action, {"key": "Bad Key!", "type": "text"})
    assert bad.status_code == 422
    assert "key" in parse(bad.text).errors()
    bad = admin.submit(page, action, {"key": "seats", "type": "number", "default": "many"})
    assert bad.status_code == 422
    assert "number" in parse(bad.text).errors()["default"]

    record_id = api_opportunity(client, acme, "Tiered", tier="gold")
    url = f"/opportunities/{record_id}"
    assert "Gold" in section(admin.page(url), "my-space")

    form = admin.page(page).form(page).fields()
    removed = admin.client.post(f"{action}/tier/remove", data=form, follow_redirects=True)
    flashes = " ".join(parse(removed.text).flashes())
    assert "Its values are kept" in flashes
    assert "Partner tier" not in section(admin.page(url), "my-space")
    retired = parse(removed.text)
    restore = retired.form(f"{action}/tier/restore")
    restored = admin.client.post(restore.action, data=restore.fields(), follow_redirects=True)
    assert "with its earlier values" in " ".join(parse(restored.text).flashes())
    assert "Gold" in section(admin.page(url), "my-space")

    # a stale template version is refused with a clear message
    stale = admin.client.post(
        page, data=dict(form) | {"vis.stage": "participants"}, follow_redirects=True
    )
    assert "another admin changed this template" in " ".join(parse(stale.text).flashes())


def test_members_read_the_template_but_cannot_change_it(
    client: TestClient, new_browser: Callable[[], Browser], inbox: Inbox
) -> None:
    acme = make_company(client, "Acme")
    member = make_colleague(client, acme, "member", inbox=inbox)
    browser = signed_in(new_browser, member)
    page = browser.page("/settings/templates/opportunity")
    assert "Only admins of Acme can change the template." in page.text
    assert not page.forms("/settings/templates/opportunity/fields")
    refused = browser.submit(
        "/settings/templates/opportunity",
        "/settings/templates/opportunity",
        {"vis.stage": "participants"},
    )
    assert any("admin" in f for f in parse(refused.text).flashes())
    assert browser.get("/settings/templates/unicorn").status_code == 404  # no such kind


# -- the canary: private values never reach another company -----------------------------------


def test_a_private_canary_never_reaches_a_partner_and_hides_on_request(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    globex = make_company(client, "Globex")
    make_partnership(client, acme, globex)
    put_template(
        client,
        acme,
        {"key": "secret_note", "type": "text", "label": "Secret note"},  # private by default
        {"key": "stage", "visibility": "participants"},
    )
    record_id = api_opportunity(
        client, acme, "Canary deal", secret_note=CANARY, product=CANARY, stage="Shared stage"
    )
    url = f"/opportunities/{record_id}"
    owner = signed_in(new_browser, acme)
    assert CANARY in owner.page(url).html
    invite(client, acme, record_id, globex)

    partner = signed_in(new_browser, globex)
    pages_seen = [partner.page("/opportunities").html]  # the invitations box
    accepted = partner.submit("/opportunities", f"{url}/accept")
    pages_seen.append(accepted.text)
    headers = htmx(partner, url)
    pages_seen += [
        partner.page("/opportunities").html,
        partner.page(url).html,
        partner.page(f"{url}?edit=space").html,
        partner.client.get(f"{url}/space", headers=headers).text,
        partner.client.get(f"{url}/space/edit", headers=headers).text,
        partner.client.get(f"{url}/core", headers=headers).text,
        partner.page("/opportunities?cursor=bogus").html,
    ]
    for html in pages_seen:
        assert CANARY not in html
    assert "Shared stage" in pages_seen[3]  # what Acme shares does arrive

    # Acme switches "hide private fields" on: the canary leaves Acme's own pages too
    toggled = owner.submit(url, "/preferences/hide-private")
    assert toggled.url.path == url
    hidden_page = parse(toggled.text)
    assert CANARY not in toggled.text
    assert "Hiding private fields" in hidden_page.text
    assert "Shared stage" in hidden_page.text
    owner_headers = htmx(owner, url)
    for html in (
        owner.page("/opportunities").html,
        owner.page(url).html,
        owner.client.get(f"{url}/space", headers=owner_headers).text,
        owner.client.get(f"{url}/space/edit", headers=owner_headers).text,
    ):
        assert CANARY not in html
    # editing while hidden leaves the hidden private values alone
    form = space_form(parse(owner.client.get(f"{url}/space/edit", headers=owner_headers).text))
    assert "field.secret_note" not in form
    saved = owner.client.post(
        f"{url}/space", data=form | {"field.stage": "Still shared"}, headers=owner_headers
    )
    assert saved.status_code == 200
    shown = owner.submit(url, "/preferences/hide-private")
    assert CANARY in shown.text
    assert "Still shared" in shown.text


# -- safety nets ------------------------------------------------------------------------------


def test_forms_without_a_csrf_token_change_nothing(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    record_id = api_opportunity(client, acme, "Guarded", stage="Before")
    browser = signed_in(new_browser, acme)
    url = f"/opportunities/{record_id}"
    form = space_form(browser.page(f"{url}?edit=space"))
    for data, headers in (
        ({k: v for k, v in form.items() if k != "csrf_token"}, {}),
        (form | {"csrf_token": "forged"}, {}),
        (form, {"HX-Request": "true", "X-CSRF-Token": "forged"}),
    ):
        refused = browser.client.post(
            f"{url}/space", data=data | {"field.stage": "After"}, headers=headers
        )
        assert refused.status_code == 403
    created = browser.client.post("/opportunities", data={"title": "No token"})
    assert created.status_code == 403
    body = client.get(f"{OPPS}/{record_id}", headers=acme.headers).json()
    assert body["spaces"][0]["fields"]["stage"] == "Before"
    assert len(client.get(OPPS, headers=acme.headers).json()["items"]) == 1


def test_unknown_hidden_and_malformed_records_are_not_found(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    other = make_company(client, "Other")
    theirs = api_opportunity(client, other, "Not yours")
    browser = signed_in(new_browser, acme)
    for path in (
        "/opportunities/not-a-uuid",
        f"/opportunities/{uuid.uuid4()}",
        f"/opportunities/{theirs}",
        f"/leads/{theirs}",
    ):
        response = browser.get(path)
        assert response.status_code == 404, path
        assert parse(response.text).h1 == ["Not found"]
    token = browser.page("/opportunities").form("/logout").fields()["csrf_token"]
    for path in (
        f"/opportunities/{theirs}/space",
        f"/opportunities/{theirs}/core",
        f"/opportunities/{theirs}/accept",
        f"/opportunities/{theirs}/participants",
    ):
        response = browser.client.post(
            path, data={"csrf_token": token, "version": "1"}, follow_redirects=False
        )
        assert response.status_code in (303, 404), (path, response.status_code)
    mine = api_opportunity(client, acme, "Mine")
    weird = browser.client.post(
        f"/opportunities/{mine}/space",
        data={"csrf_token": token, "version": "x" * 40, "field.stage": "\x00"},
    )
    assert weird.status_code == 422
    assert "lost its version" in weird.text


def test_leads_and_accounts_have_their_own_lists(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    browser = signed_in(new_browser, acme)
    lead = browser.submit("/leads", "/leads", {"title": "Inbound lead"})
    assert lead.url.path.startswith("/leads/")
    assert "Lead “Inbound lead” created." in parse(lead.text).flashes()
    account = browser.submit("/accounts", "/accounts", {"title": "Contoso account"})
    assert account.url.path.startswith("/accounts/")
    assert "Inbound lead" in browser.page("/leads").text
    assert "Inbound lead" not in browser.page("/accounts").text
    assert "Contoso account" in browser.page("/accounts").text
    page = browser.page("/leads")
    current = page.root.find("a", aria_current="page")
    assert current is not None
    assert current.text == "Leads"


def test_read_only_access_is_explained_not_an_error(
    client: TestClient, new_browser: Callable[[], Browser], inbox: Inbox
) -> None:
    acme = make_company(client, "Acme")
    rep = make_colleague(client, acme, "member", inbox=inbox)
    record_id = api_opportunity(client, acme, "Look, don't touch", region="emea", stage="Open")
    rule = client.post(
        "/api/v1/rules",
        json={
            "kind": "opportunity",
            "name": "Reps read EMEA",
            "type": "visibility",
            "condition": {"field": "region", "op": "eq", "value": "emea"},
            "grantees": {"users": [rep.user_id]},
            "permission": "view",
        },
        headers=acme.headers,
    )
    assert rule.status_code == 201, rule.text
    reader = signed_in(new_browser, rep)
    url = f"/opportunities/{record_id}"
    headers = htmx(reader, url)
    form = space_form(parse(reader.client.get(f"{url}/space/edit", headers=headers).text))
    refused = reader.client.post(
        f"{url}/space", data=form | {"field.stage": "Won"}, headers=headers
    )
    assert refused.status_code == 403
    fragment = parse(refused.text)
    assert "may read this record but not edit it" in fragment.text
    assert not [f for f in fragment.forms() if f.action.endswith("/space")]
    assert (
        client.get(f"{OPPS}/{record_id}", headers=acme.headers).json()["spaces"][0]["fields"][
            "stage"
        ]
        == "Open"
    )
