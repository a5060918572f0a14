"""The Files panel of the record page: what the JSON list shows the same user, an upload form
for companies on the record, refusals shown inside the panel with nothing stored, downloads and
deletes through the same checks as the API."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from coterie.config import Settings
from tests.fixtures.activity import comment, make_deal, timeline_of
from tests.fixtures.attachments import files_of, pdf_bytes, png_bytes, uploaded
from tests.fixtures.builders import Member
from tests.fixtures.smtp import Inbox
from tests.web.conftest import Browser
from tests.web.html import parse

HX = {"HX-Request": "true"}


def signed_in(new_browser: Callable[[], Browser], member: Member) -> Browser:
    browser = new_browser()
    response = browser.login(member.email)
    assert response.status_code == 200, response.text[:500]
    return browser


def test_the_record_page_shows_the_files_and_uploads_through_its_form(
    client: TestClient, inbox: Inbox, new_browser: Callable[[], Browser]
) -> None:
    deal = make_deal(client, inbox)
    acme = signed_in(new_browser, deal.acme)
    page = acme.page(f"/opportunities/{deal.record_id}")
    panel = page.root.by_id("files")
    assert panel is not None
    assert "shared with every company" in panel.text
    assert "No files yet" in panel.text
    action = f"/opportunities/{deal.record_id}/attachments"
    fields = dict(page.form(action).fields())
    content = pdf_bytes("signed order form")
    posted = acme.client.post(
        action,
        data=fields,
        files={"file": ("Order form.pdf", content, "application/pdf")},
        headers=HX,
    )
    assert posted.status_code == 200, posted.text[:1000]
    swapped = parse(posted.text)
    assert "Order form.pdf was uploaded" in swapped.root.text
    link = next(a for a in swapped.root.find_all("a") if a.text.strip() == "Order form.pdf")
    assert "1.6 KB" in swapped.root.text or "1.5 KB" in swapped.root.text
    download = acme.get(link.attrs["href"])
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["content-disposition"].startswith("attachment;")

    # the partner sees it listed, by whom, without a delete button
    globex = signed_in(new_browser, deal.globex)
    partner_panel = globex.page(f"/opportunities/{deal.record_id}").root.by_id("files")
    assert partner_panel is not None
    assert "Order form.pdf" in partner_panel.text
    assert "Acme" in partner_panel.text
    assert not any(
        "delete" in (f.attrs.get("action") or "") for f in partner_panel.find_all("form")
    )


def test_a_refused_file_is_explained_inside_the_panel_and_nothing_is_stored(
    client: TestClient, inbox: Inbox, new_browser: Callable[[], Browser]
) -> None:
    deal = make_deal(client, inbox)
    acme = signed_in(new_browser, deal.acme)
    action = f"/opportunities/{deal.record_id}/attachments"
    fields = dict(acme.page(f"/opportunities/{deal.record_id}").form(action).fields())
    refused = acme.client.post(
        action,
        data=fields,
        files={"file": ("invoice.pdf", b"<html><script>x()</script></html>", "application/pdf")},
        headers=HX,
    )
    assert refused.status_code == 422
    alert = parse(refused.text).root.by_id("files-error")
    assert alert is not None
    assert "Web pages, SVG, XML and scripts cannot be attached." in alert.text
    assert "Nothing was stored" in alert.text
    # without htmx: back to the record with the message
    plain = acme.client.post(
        action,
        data=fields,
        files={"file": ("invoice.pdf", b"<html></html>", "application/pdf")},
        follow_redirects=True,
    )
    assert plain.status_code == 200
    assert "cannot be attached" in plain.text
    assert files_of(client, deal.acme, deal.record_id) == []


def test_deleting_from_the_panel_removes_the_file_for_everyone(
    client: TestClient, inbox: Inbox, new_browser: Callable[[], Browser]
) -> None:
    deal = make_deal(client, inbox)
    made = uploaded(client, deal.globex, deal.record_id, "draft.txt", b"draft\n")
    acme = signed_in(new_browser, deal.acme)  # the record's owner
    page = acme.page(f"/opportunities/{deal.record_id}")
    action = f"/attachments/{made['id']}/delete"
    form = page.form(action)
    assert "will be removed for every company" in page.root.by_id(f"delete-file-{made['id']}").text  # type: ignore[union-attr]
    done = acme.client.post(action, data=dict(form.fields()), headers=HX)
    assert done.status_code == 200
    assert "draft.txt was deleted" in done.text
    assert files_of(client, deal.globex, deal.record_id) == []
    # a partner's own upload form is there; a stranger's page is a 404
    globex = signed_in(new_browser, deal.globex)
    assert globex.page(f"/opportunities/{deal.record_id}").forms(
        f"/opportunities/{deal.record_id}/attachments"
    )
    initech = signed_in(new_browser, deal.initech)
    assert initech.get(f"/attachments/{made['id']}/download").status_code == 404


def test_a_partner_refused_a_delete_sees_why_in_the_panel_and_the_file_stays(
    client: TestClient, inbox: Inbox, new_browser: Callable[[], Browser]
) -> None:
    deal = make_deal(client, inbox)
    made = uploaded(client, deal.acme, deal.record_id, "plan.txt", b"plan\n")
    globex = signed_in(new_browser, deal.globex)
    page = globex.page(f"/opportunities/{deal.record_id}")
    fields = dict(page.form(f"/opportunities/{deal.record_id}/attachments").fields())
    action = f"/attachments/{made['id']}/delete"
    refused = globex.client.post(action, data={"csrf_token": fields["csrf_token"]}, headers=HX)
    assert refused.status_code == 403
    error = parse(refused.text).root.by_id("files-error")
    assert error is not None
    assert "Only the company that uploaded a file, or the record's owner" in error.text
    plain = globex.client.post(
        action, data={"csrf_token": fields["csrf_token"]}, follow_redirects=False
    )
    assert plain.status_code == 303
    assert plain.headers["location"] == f"/opportunities/{deal.record_id}#files"
    assert [f["filename"] for f in files_of(client, deal.acme, deal.record_id)] == ["plan.txt"]


def test_a_comments_file_is_listed_under_the_comment_in_the_timeline(
    client: TestClient, inbox: Inbox, new_browser: Callable[[], Browser]
) -> None:
    deal = make_deal(client, inbox)
    shared = comment(client, deal.acme, deal.record_id, "Proof of the event attached")
    response = client.post(
        f"/api/v1/comments/{shared['id']}/attachments",
        files={"file": ("attendees.csv", b"name,company\nAda,Globex\n", "text/csv")},
        headers=deal.acme.headers,
    )
    assert response.status_code == 201, response.text
    globex = signed_in(new_browser, deal.globex)
    activity = globex.page(f"/opportunities/{deal.record_id}").root.by_id("activity")
    assert activity is not None
    link = next(a for a in activity.find_all("a") if a.text.strip() == "attendees.csv")
    got = globex.get(link.attrs["href"])
    assert got.status_code == 200
    assert got.content == b"name,company\nAda,Globex\n"


def test_a_comment_posted_with_a_file_shows_it_and_a_refused_file_posts_nothing(
    client: TestClient, inbox: Inbox, new_browser: Callable[[], Browser]
) -> None:
    deal = make_deal(client, inbox)
    acme = signed_in(new_browser, deal.acme)
    action = f"/opportunities/{deal.record_id}/comments"
    fields = dict(acme.page(f"/opportunities/{deal.record_id}").form(action).fields())
    fields.update({"body": "Event photos attached", "audience": "participants"})
    posted = acme.client.post(
        action, data=fields, files={"file": ("booth.png", png_bytes(), "image/png")}, headers=HX
    )
    assert posted.status_code == 200, posted.text[:1000]
    activity = parse(posted.text).root.by_id("activity")
    assert activity is not None
    assert any(a.text.strip() == "booth.png" for a in activity.find_all("a"))
    (item,) = [i for i in timeline_of(client, deal.globex, deal.record_id) if i["comment"]]
    assert [f["filename"] for f in item["comment"]["attachments"]] == ["booth.png"]

    fields.update({"body": "This one should not be posted"})
    refused = acme.client.post(
        action,
        data=fields,
        files={"file": ("evil.svg", b"<svg onload=alert(1)></svg>", "image/svg+xml")},
        headers=HX,
    )
    assert refused.status_code == 422
    error = parse(refused.text).root.by_id("f-comment-file-error")
    assert error is not None
    assert "cannot be attached" in error.text
    assert "the comment was not posted" in error.text
    bodies = [
        i["comment"]["body"] for i in timeline_of(client, deal.acme, deal.record_id) if i["comment"]
    ]
    assert bodies == ["Event photos attached"]


def test_a_comment_with_a_file_over_the_limit_says_so_in_one_sentence(
    client: TestClient, inbox: Inbox, new_browser: Callable[[], Browser], settings: Settings
) -> None:
    deal = make_deal(client, inbox)
    settings.attachments_max_bytes = 2_000
    acme = signed_in(new_browser, deal.acme)
    action = f"/opportunities/{deal.record_id}/comments"
    fields = dict(acme.page(f"/opportunities/{deal.record_id}").form(action).fields())
    fields.update({"body": "The attendee list", "audience": "participants"})
    refused = acme.client.post(
        action,
        data=fields,
        files={"file": ("attendees.csv", b"a,b\n" + b"1,2\n" * 600, "text/csv")},
        headers=HX,
    )
    assert refused.status_code == 422
    error = parse(refused.text).root.by_id("f-comment-file-error")
    assert error is not None
    assert error.text.strip() == (
        "The file is larger than the limit of 2 KB; the comment was not posted."
    )
    assert not [i for i in timeline_of(client, deal.acme, deal.record_id) if i["comment"]]
