"""The activity panel on the record page, the mention picker, the notifications page and bell:
what the JSON shows the same user, never an internal note or private value of someone else."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.fixtures.activity import comment, make_deal, mention
from tests.fixtures.records import fill_space
from tests.fixtures.smtp import Inbox
from tests.web.conftest import Browser
from tests.web.html import parse

HX = {"HX-Request": "true"}


def _signed_in(new_browser: Callable[[], Browser], email: str) -> Browser:
    browser = new_browser()
    response = browser.login(email)
    assert response.status_code == 200, response.text[:500]
    return browser


def test_the_record_page_loads_the_activity_panel_and_posts_comments(
    client: TestClient, inbox: Inbox, new_browser: Callable[[], Browser]
) -> None:
    deal = make_deal(client, inbox)
    acme = _signed_in(new_browser, deal.acme.email)
    page = acme.page(f"/opportunities/{deal.record_id}")
    rendered = page.root.by_id("activity")  # in the page's own response, not loaded after it
    assert rendered is not None
    assert "hx-get" not in rendered.attrs
    assert rendered.find("form") is not None

    panel_url = f"/opportunities/{deal.record_id}/activity"
    panel = acme.get(panel_url, headers=HX)
    assert panel.status_code == 200
    form = parse(panel.text).form(f"/opportunities/{deal.record_id}/comments")
    fields = dict(form.fields())
    fields.update(
        {"body": f"Kick-off **Monday** {mention(deal.globex_rep)}", "audience": "participants"}
    )
    posted = acme.client.post(f"/opportunities/{deal.record_id}/comments", data=fields, headers=HX)
    assert posted.status_code == 200, posted.text[:1000]
    assert "<strong>Monday</strong>" in posted.text
    assert 'class="mention"' in posted.text


def test_a_refused_mention_keeps_the_text_and_says_why(
    client: TestClient, inbox: Inbox, new_browser: Callable[[], Browser]
) -> None:
    deal = make_deal(client, inbox)
    acme = _signed_in(new_browser, deal.acme.email)
    panel = acme.get(f"/opportunities/{deal.record_id}/activity", headers=HX)
    fields = dict(parse(panel.text).form(f"/opportunities/{deal.record_id}/comments").fields())
    fields.update({"body": f"hello {mention(deal.initech)}"})
    refused = acme.client.post(f"/opportunities/{deal.record_id}/comments", data=fields, headers=HX)
    assert refused.status_code == 422
    assert "hello @[them]" in refused.text  # the text is kept to fix it
    assert "cannot read this comment" in refused.text or "can read this comment" in refused.text


def test_a_partner_never_sees_an_internal_note_or_private_change_in_the_panel(
    client: TestClient, inbox: Inbox, new_browser: Callable[[], Browser]
) -> None:
    deal = make_deal(client, inbox)
    fill_space(client, deal.acme, deal.record_id, margin=55501)
    comment(client, deal.acme, deal.record_id, "INTERNAL-CANARY floor price", "company")
    globex = _signed_in(new_browser, deal.globex.email)
    panel = globex.get(f"/opportunities/{deal.record_id}/activity", headers=HX)
    assert panel.status_code == 200
    assert "INTERNAL-CANARY" not in panel.text
    assert "55501" not in panel.text
    assert "55,501" not in panel.text
    acme = _signed_in(new_browser, deal.acme.email)
    own = acme.get(f"/opportunities/{deal.record_id}/activity", headers=HX)
    assert "INTERNAL-CANARY" in own.text
    assert "55,501" in own.text
    outsider = _signed_in(new_browser, deal.initech.email)
    assert outsider.get(f"/opportunities/{deal.record_id}/activity", headers=HX).status_code == 404
    assert (
        outsider.get(f"/opportunities/{deal.record_id}/mentionable", headers=HX).status_code == 404
    )


def test_the_mention_picker_offers_people_on_the_record(
    client: TestClient, inbox: Inbox, new_browser: Callable[[], Browser]
) -> None:
    deal = make_deal(client, inbox)
    acme = _signed_in(new_browser, deal.acme.email)
    found = acme.get(
        f"/opportunities/{deal.record_id}/mentionable", params={"q": "colleague"}, headers=HX
    )
    assert found.status_code == 200
    options = [b.attrs["data-mention"] for b in parse(found.text).root.find_all("button")]
    assert f"({deal.globex_rep.user_id})" in " ".join(options)
    assert f"({deal.acme_rep.user_id})" in " ".join(options)


def test_notifications_page_bell_and_mark_read(
    client: TestClient, inbox: Inbox, new_browser: Callable[[], Browser]
) -> None:
    deal = make_deal(client, inbox)
    comment(client, deal.acme, deal.record_id, f"{mention(deal.globex_rep)} see the deck")
    rep = _signed_in(new_browser, deal.globex_rep.email)
    bell = rep.get("/notifications/bell", headers=HX)
    assert "1 unread" in bell.text
    page = rep.page("/notifications")
    assert "mentioned you on opportunity “Big deal”" in page.main_text
    assert "see the deck" in page.main_text
    assert f"/opportunities/{deal.record_id}" in page.links()
    response = rep.submit("/notifications", "/notifications/read-all")
    assert response.status_code == 200
    assert "1 unread" not in rep.get("/notifications/bell", headers=HX).text
