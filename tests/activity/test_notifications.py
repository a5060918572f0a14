"""Notifications: my own only, read and unread, and the daily digest that re-checks, as its
recipient, what it may still tell them."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient

from coterie.activity import digest
from coterie.db import utcnow
from coterie.worker import runner
from tests.fixtures.activity import (
    NOTIFICATIONS,
    comment,
    make_deal,
    mention,
    notifications_of,
    set_email,
    url,
)
from tests.fixtures.records import fill_space
from tests.fixtures.smtp import Inbox, text_of
from tests.fixtures.versions import at_version
from tests.kit.assertions import assert_problem

SECRET_MARGIN = 913377


def test_unread_read_and_read_all(client: TestClient, inbox: Inbox) -> None:
    deal = make_deal(client, inbox)
    for n in range(3):
        comment(client, deal.acme, deal.record_id, f"{mention(deal.globex_rep)} update {n}")
    rep = deal.globex_rep
    count = client.get(f"{NOTIFICATIONS}/unread-count", headers=rep.headers).json()
    assert count == {"unread": 3}
    newest = notifications_of(client, rep)[0]
    assert "update 2" in newest["excerpt"]
    read = client.post(f"{NOTIFICATIONS}/{newest['id']}/read", headers=rep.headers)
    assert read.status_code == 200, read.text
    assert read.json()["read_at"] is not None
    assert len(notifications_of(client, rep, unread="true")) == 2
    # someone else's notification is not mine to read
    assert_problem(
        client.post(f"{NOTIFICATIONS}/{newest['id']}/read", headers=deal.acme.headers),
        404,
        "not-found",
    )
    assert client.post(f"{NOTIFICATIONS}/read-all", headers=rep.headers).status_code == 204
    assert client.get(f"{NOTIFICATIONS}/unread-count", headers=rep.headers).json() == {"unread": 0}
    # Acme's admin, who invited Globex, was told only that Globex accepted (read-all touched
    # the rep's alone)
    assert [n["event"] for n in notifications_of(client, deal.acme)] == ["invitation_accepted"]


def test_a_notification_about_a_record_i_can_no_longer_see_disappears(
    client: TestClient, inbox: Inbox
) -> None:
    deal = make_deal(client, inbox)
    comment(client, deal.acme, deal.record_id, f"{mention(deal.globex_rep)} hello")
    assert len(notifications_of(client, deal.globex_rep)) == 1
    removed = client.delete(
        url(deal.record_id, f"/participants/{deal.globex.company_id}"), headers=deal.acme.headers
    )
    assert removed.status_code == 204, removed.text
    assert notifications_of(client, deal.globex_rep) == []
    count = client.get(f"{NOTIFICATIONS}/unread-count", headers=deal.globex_rep.headers)
    assert count.json() == {"unread": 0}


def test_the_daily_digest_groups_and_skips_what_is_no_longer_visible(
    app: FastAPI, client: TestClient, inbox: Inbox
) -> None:
    deal = make_deal(client, inbox)
    set_email(client, deal.globex_rep, "daily")
    fill_space(client, deal.acme, deal.record_id, margin=SECRET_MARGIN)
    inbox.clear()
    comment(client, deal.acme, deal.record_id, f"{mention(deal.globex_rep)} first question")
    comment(client, deal.acme_rep, deal.record_id, f"{mention(deal.globex_rep)} second question")
    # another Acme deal Globex is on, from which Globex is then removed before the digest
    other = client.post(
        "/api/v1/opportunities", json={"title": "Lost deal"}, headers=deal.acme.headers
    ).json()["id"]
    client.post(
        url(other, "/participants"),
        json={"company_id": deal.globex.company_id},
        headers=deal.acme.headers,
    )
    client.post(
        url(other, f"/participants/{deal.globex.company_id}/accept"), headers=deal.globex.headers
    )
    comment(client, deal.acme, other, f"{mention(deal.globex_rep)} about the lost deal")
    client.delete(url(other, f"/participants/{deal.globex.company_id}"), headers=deal.acme.headers)
    assert inbox.to(deal.globex_rep.email) == []  # daily: nothing at once

    settings = app.state.settings
    sent = digest.queue_digests(app.state.session_factory, utcnow(), settings)
    assert sent >= 1
    messages = inbox.to(deal.globex_rep.email)
    assert len(messages) == 1
    body = text_of(messages[0])
    assert "first question" in body
    assert "second question" in body
    assert "Big deal" in body
    assert "Lost deal" not in body
    assert "about the lost deal" not in body
    assert str(SECRET_MARGIN) not in body
    assert "913,377" not in body
    html = messages[0].get_body(preferencelist=("html",))
    assert html is not None
    assert "913" not in str(html.get_content())
    assert "2 notifications" in str(messages[0]["Subject"])
    # nothing twice
    assert (
        digest.queue_digests(app.state.session_factory, utcnow() + timedelta(days=1), settings) == 0
    )
    assert len(inbox.to(deal.globex_rep.email)) == 1


def test_the_digest_leaves_out_a_comment_that_was_deleted(
    app: FastAPI, client: TestClient, inbox: Inbox
) -> None:
    deal = make_deal(client, inbox)
    set_email(client, deal.globex_rep, "daily")
    made = comment(client, deal.acme, deal.record_id, f"{mention(deal.globex_rep)} oops, typo")
    assert (
        client.delete(
            f"/api/v1/comments/{made['id']}", headers=at_version(deal.acme, 1)
        ).status_code
        == 204
    )
    digest.queue_digests(app.state.session_factory, utcnow(), app.state.settings)
    body = text_of(inbox.wait_for(deal.globex_rep.email))
    assert "mentioned you" in body
    assert "oops, typo" not in body


def test_the_worker_digest_sets_up_its_own_sessions_like_the_app(
    app: FastAPI, client: TestClient, inbox: Inbox
) -> None:
    deal = make_deal(client, inbox)
    set_email(client, deal.globex_rep, "daily")
    comment(client, deal.acme, deal.record_id, f"{mention(deal.globex_rep)} from cron")
    jobs, engine = runner.open_jobs(app.state.settings)  # what `coterie notifications digest` uses
    try:
        assert digest.queue_digests(jobs.session_factory, utcnow(), app.state.settings) == 1
    finally:
        engine.dispose()
    assert "from cron" in text_of(inbox.wait_for(deal.globex_rep.email))
