"""Comments: Markdown sanitized, mentions only of people who can read them, internal notes that
never leave the author's company, the author alone edits, and 404 for everyone off the record."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.fixtures.activity import (
    comment,
    make_deal,
    mention,
    notifications_of,
    set_email,
    timeline_of,
    url,
)
from tests.fixtures.builders import make_colleague
from tests.fixtures.records import fill_space
from tests.fixtures.smtp import Inbox, text_of
from tests.fixtures.versions import at_version
from tests.kit.assertions import assert_invalid, assert_problem


def test_a_comment_is_rendered_and_sanitized_for_every_participant(
    client: TestClient, inbox: Inbox
) -> None:
    deal = make_deal(client, inbox)
    made = comment(
        client,
        deal.acme,
        deal.record_id,
        "**Next step**: call <script>alert(1)</script> [x](javascript:alert(1))",
    )
    assert "<strong>Next step</strong>" in made["body_html"]
    assert "<script" not in made["body_html"]
    assert 'href="javascript' not in made["body_html"]
    listed = client.get(url(deal.record_id, "/comments"), headers=deal.globex.headers).json()
    assert [c["id"] for c in listed["items"]] == [made["id"]]
    assert listed["items"][0]["author"]["company_name"] == "Acme"
    assert listed["items"][0]["is_mine"] is False


def test_mentioning_someone_of_a_company_not_on_the_record_is_refused(
    client: TestClient, inbox: Inbox
) -> None:
    deal = make_deal(client, inbox)
    for text in (mention(deal.initech, "Ivan"), f"@{deal.initech.email} please look"):
        response = client.post(
            url(deal.record_id, "/comments"),
            json={"body": f"Hi {text}"},
            headers=deal.acme.headers,
        )
        assert_invalid(response, "body.body", slug="mention-not-allowed")
        assert deal.initech.email in response.text or deal.initech.user_id in response.text
    assert (
        client.get(url(deal.record_id, "/comments"), headers=deal.acme.headers).json()["items"]
        == []
    )
    assert notifications_of(client, deal.initech) == []


def test_a_mention_notifies_the_person_named_and_emails_them_at_once(
    client: TestClient, inbox: Inbox
) -> None:
    deal = make_deal(client, inbox)
    inbox.clear()
    made = comment(
        client, deal.acme_rep, deal.record_id, f"{mention(deal.globex_rep, 'G')} can you join?"
    )
    assert [m["user_id"] for m in made["mentions"]] == [deal.globex_rep.user_id]
    assert "@Colleague" in made["body_html"]  # the user's real name, not the typed one
    mine = notifications_of(client, deal.globex_rep)
    assert [n["event"] for n in mine] == ["mention"]
    assert mine[0]["record_title"] == "Big deal"
    assert "can you join?" in mine[0]["excerpt"]
    assert notifications_of(client, deal.acme_rep) == []  # never the author
    message = inbox.wait_for(deal.globex_rep.email)
    body = text_of(message)
    assert "Big deal" in body
    assert "can you join?" in body
    assert f"http://testserver/opportunities/{deal.record_id}" in body


def test_an_email_mention_works_and_nobody_is_emailed_who_chose_not_to_be(
    client: TestClient, inbox: Inbox
) -> None:
    deal = make_deal(client, inbox)
    set_email(client, deal.globex_rep, "off")
    inbox.clear()
    comment(client, deal.acme, deal.record_id, f"ping @{deal.globex_rep.email}")
    assert [n["event"] for n in notifications_of(client, deal.globex_rep)] == ["mention"]
    assert inbox.to(deal.globex_rep.email) == []


def test_an_internal_note_never_reaches_a_partner(client: TestClient, inbox: Inbox) -> None:
    deal = make_deal(client, inbox)
    secret = "Internal: our floor price is 42k"
    # Globex's space owner would hear of every participants comment, but not of this one
    fill_space(client, deal.globex, deal.record_id, owner=deal.globex_rep.user_id)
    refused = client.post(
        url(deal.record_id, "/comments"),
        json={"body": f"{secret} {mention(deal.globex_rep)}", "audience": "company"},
        headers=deal.acme.headers,
    )
    assert_invalid(refused, "body.body", slug="mention-not-allowed")
    inbox.clear()
    note = comment(
        client, deal.acme, deal.record_id, f"{secret} {mention(deal.acme_rep)}", "company"
    )
    assert note["audience"] == "company"
    # Acme's colleague sees it and was told
    assert [n["event"] for n in notifications_of(client, deal.acme_rep)] == ["mention"]
    assert secret in text_of(inbox.wait_for(deal.acme_rep.email))
    # Globex: not in the list, not in the timeline, not by id, not notified, not e-mailed
    for who in (deal.globex, deal.globex_rep):
        listed = client.get(url(deal.record_id, "/comments"), headers=who.headers).json()
        assert listed["items"] == []
        assert secret not in str(timeline_of(client, who, deal.record_id))
        assert_problem(client.get(f"/api/v1/comments/{note['id']}", headers=who.headers), 404, None)
        # Globex's admin was told of the invitation onto the deal, nothing since
        told = [n["event"] for n in notifications_of(client, who)]
        assert told == (["invitation"] if who is deal.globex else [])
        assert inbox.to(who.email) == []
    # a participants comment does reach Globex's space owner
    comment(client, deal.acme, deal.record_id, "Shared update")
    assert [n["event"] for n in notifications_of(client, deal.globex_rep)] == ["comment"]


def test_only_the_author_edits_and_deletes_and_stale_versions_are_refused(
    client: TestClient, inbox: Inbox
) -> None:
    deal = make_deal(client, inbox)
    made = comment(client, deal.acme, deal.record_id, "first draft")
    path = f"/api/v1/comments/{made['id']}"
    assert_problem(
        client.patch(path, json={"body": "hijack"}, headers=at_version(deal.globex, 1)),
        403,
        "forbidden",
    )
    unconditional = client.patch(path, json={"body": "blind"}, headers=deal.acme.headers)
    assert_problem(unconditional, 428, "precondition-required")
    edited = client.patch(
        path, json={"body": "second draft"}, headers={**deal.acme.headers, "If-Match": '"1"'}
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["version"] == 2
    assert edited.json()["edited_at"] is not None
    stale = client.patch(
        path, json={"body": "third"}, headers={**deal.acme.headers, "If-Match": '"1"'}
    )
    assert_problem(stale, 412, "version-mismatch")
    assert_problem(client.delete(path, headers=at_version(deal.globex, 2)), 403, "forbidden")
    assert_problem(client.delete(path, headers=deal.acme.headers), 428, "precondition-required")
    assert_problem(client.delete(path, headers=at_version(deal.acme, 1)), 412, "version-mismatch")
    assert client.delete(path, headers=at_version(deal.acme, 2)).status_code == 204
    assert (
        client.get(url(deal.record_id, "/comments"), headers=deal.acme.headers).json()["items"]
        == []
    )


def test_bad_comments_are_422_with_the_field_path(client: TestClient, inbox: Inbox) -> None:
    deal = make_deal(client, inbox)
    target = url(deal.record_id, "/comments")
    assert_invalid(client.post(target, json={"body": ""}, headers=deal.acme.headers), "body.body")
    assert_invalid(
        client.post(target, json={"body": "x" * 20_001}, headers=deal.acme.headers), "body.body"
    )
    assert_invalid(
        client.post(target, json={"body": "x", "audience": "world"}, headers=deal.acme.headers),
        "body.audience",
    )


def test_a_company_not_on_the_record_gets_404_everywhere(client: TestClient, inbox: Inbox) -> None:
    deal = make_deal(client, inbox)
    made = comment(client, deal.acme, deal.record_id, "hello")
    outsider = deal.initech
    for response in (
        client.get(url(deal.record_id, "/comments"), headers=outsider.headers),
        client.post(url(deal.record_id, "/comments"), json={"body": "x"}, headers=outsider.headers),
        client.get(url(deal.record_id, "/timeline"), headers=outsider.headers),
        client.get(url(deal.record_id, "/mentionable"), headers=outsider.headers),
        client.get(f"/api/v1/comments/{made['id']}", headers=outsider.headers),
        client.patch(
            f"/api/v1/comments/{made['id']}", json={"body": "x"}, headers=at_version(outsider, 1)
        ),
        client.delete(f"/api/v1/comments/{made['id']}", headers=at_version(outsider, 1)),
    ):
        assert_problem(response, 404, "not-found")


def test_the_mention_picker_lists_names_of_people_on_the_record_only(
    client: TestClient, inbox: Inbox
) -> None:
    deal = make_deal(client, inbox)
    make_colleague(client, deal.initech, inbox=inbox)
    found = client.get(url(deal.record_id, "/mentionable"), headers=deal.acme.headers).json()
    companies = {c["company_name"] for c in found}
    assert companies == {"Acme", "Globex"}
    assert deal.acme.user_id not in {c["user_id"] for c in found}  # not myself
    assert all(set(c) == {"user_id", "name", "company_id", "company_name"} for c in found)
    internal = client.get(
        url(deal.record_id, "/mentionable"),
        params={"audience": "company"},
        headers=deal.acme.headers,
    ).json()
    assert {c["company_name"] for c in internal} == {"Acme"}
