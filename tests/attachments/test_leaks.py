"""Leak tests: a canary in a file, or in its name, never reaches a company that may not see the
file's subject, on any path it can call (metadata, content, lists, search, pages, timeline,
notifications); leaving the record, or a comment being deleted, takes the files away at once."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.fixtures.activity import comment, make_deal, notifications_of, timeline_of
from tests.fixtures.attachments import files_of, upload, uploaded
from tests.fixtures.builders import Member
from tests.fixtures.records import OPPS
from tests.fixtures.smtp import Inbox
from tests.kit.assertions import assert_problem
from tests.web.conftest import Browser

CANARY = "CANARY-7f3a9c-attachment"
NAME_CANARY = "canaryname-b41d"


def every_read_of(
    client: TestClient, who: Member, record_id: str, attachment_id: str, comment_id: str = ""
) -> list[tuple[str, int, str]]:
    """(path, status, body) of every API read of the file and its surroundings `who` can try."""
    paths = [
        f"/api/v1/attachments/{attachment_id}",
        f"/api/v1/attachments/{attachment_id}/content",
        f"{OPPS}/{record_id}/attachments",
        f"{OPPS}/{record_id}",
        f"{OPPS}/{record_id}/timeline",
        f"{OPPS}/{record_id}/comments",
        f"/api/v1/search?q={CANARY}",
        f"/api/v1/search?q={NAME_CANARY}",
        "/api/v1/notifications",
        OPPS,
    ]
    if comment_id:
        paths.append(f"/api/v1/comments/{comment_id}/attachments")
    found = []
    for path in paths:
        response = client.get(path, headers=who.headers)
        found.append((path, response.status_code, response.text))
    return found


def signed_in(new_browser: Callable[[], Browser], member: Member) -> Browser:
    browser = new_browser()
    response = browser.login(member.email)
    assert response.status_code == 200, response.text[:500]
    return browser


def test_a_partner_off_the_record_gets_404_and_never_the_canary(
    client: TestClient, inbox: Inbox, new_browser: Callable[[], Browser]
) -> None:
    deal = make_deal(client, inbox)
    made = uploaded(
        client,
        deal.acme,
        deal.record_id,
        f"{NAME_CANARY}.txt",
        f"margin is 41% {CANARY}\n".encode(),
    )
    for path, status, body in every_read_of(client, deal.initech, deal.record_id, made["id"]):
        assert CANARY not in body, path
        assert NAME_CANARY not in body, path
        if "attachments" in path or path.endswith(deal.record_id):
            assert status == 404, path
    # exactly like an id that does not exist
    missing = client.get(
        "/api/v1/attachments/0191c0de-0000-7000-8000-000000000000", headers=deal.initech.headers
    )
    hidden = client.get(f"/api/v1/attachments/{made['id']}", headers=deal.initech.headers)
    assert (hidden.status_code, hidden.json()["detail"]) == (
        missing.status_code,
        missing.json()["detail"],
    )
    assert_problem(
        client.delete(f"/api/v1/attachments/{made['id']}", headers=deal.initech.headers),
        404,
        "not-found",
    )
    initech = signed_in(new_browser, deal.initech)
    for url in (
        f"/attachments/{made['id']}/download",
        f"/opportunities/{deal.record_id}",
        f"/opportunities/{deal.record_id}/files",
    ):
        response = initech.get(url, headers={"HX-Request": "true"})
        assert response.status_code == 404, url
        assert CANARY not in response.text
        assert NAME_CANARY not in response.text
    home = initech.get("/")
    assert NAME_CANARY not in home.text


def test_a_partner_that_leaves_the_record_loses_its_files_at_once(
    client: TestClient, inbox: Inbox
) -> None:
    deal = make_deal(client, inbox)
    made = uploaded(client, deal.acme, deal.record_id, "plan.txt", f"{CANARY}\n".encode())
    assert client.get(made["download_url"], headers=deal.globex.headers).status_code == 200
    removed = client.delete(
        f"{OPPS}/{deal.record_id}/participants/{deal.globex.company_id}", headers=deal.acme.headers
    )
    assert removed.status_code in (200, 204), removed.text
    for path, status, body in every_read_of(client, deal.globex, deal.record_id, made["id"]):
        assert CANARY not in body, path
        if "attachments" in path:
            assert status == 404, path
    # and its own files stay behind, with the record, for those still on it
    assert [f["id"] for f in files_of(client, deal.acme, deal.record_id)] == [made["id"]]


def test_an_internal_notes_files_stay_inside_the_authors_company(
    client: TestClient, inbox: Inbox
) -> None:
    deal = make_deal(client, inbox)
    note = comment(client, deal.acme, deal.record_id, "Our floor price", audience="company")
    response = client.post(
        f"/api/v1/comments/{note['id']}/attachments",
        files={"file": (f"{NAME_CANARY}.csv", f"floor,{CANARY}\n".encode(), "text/csv")},
        headers=deal.acme.headers,
    )
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["subject_kind"] == "comment"
    colleague_view = client.get(
        f"/api/v1/comments/{note['id']}/attachments", headers=deal.acme_rep.headers
    )
    assert [f["id"] for f in colleague_view.json()["items"]] == [made["id"]]
    # the partner on the record sees neither the note nor its file
    reads = every_read_of(client, deal.globex, deal.record_id, made["id"], note["id"])
    for path, status, body in reads:
        assert CANARY not in body, path
        assert NAME_CANARY not in body, path
        if "attachments" in path and path != f"{OPPS}/{deal.record_id}/attachments":
            assert status == 404, path
    # a comment file is not a record file: the record's list stays empty for everyone
    assert files_of(client, deal.acme, deal.record_id) == []
    assert all(CANARY not in str(n) for n in notifications_of(client, deal.globex))
    assert all(
        NAME_CANARY not in str(item) for item in timeline_of(client, deal.globex, deal.record_id)
    )


def test_a_comments_files_follow_the_comment(client: TestClient, inbox: Inbox) -> None:
    deal = make_deal(client, inbox)
    shared = comment(client, deal.acme, deal.record_id, "Signed contract attached")
    url = f"/api/v1/comments/{shared['id']}/attachments"
    files = {"file": ("contract.txt", b"signed\n", "text/plain")}
    # only its author attaches to a comment
    assert_problem(client.post(url, files=files, headers=deal.acme_rep.headers), 403, "forbidden")
    made = client.post(url, files=files, headers=deal.acme.headers).json()
    assert client.get(made["download_url"], headers=deal.globex.headers).status_code == 200
    # the partner's timeline shows the file under the comment
    (item,) = [i for i in timeline_of(client, deal.globex, deal.record_id) if i["comment"]]
    assert [f["filename"] for f in item["comment"]["attachments"]] == ["contract.txt"]
    deleted = client.delete(
        f"/api/v1/comments/{shared['id']}",
        headers={**deal.acme.headers, "If-Match": f'"{shared["version"]}"'},
    )
    assert deleted.status_code == 204, deleted.text
    for who in (deal.globex, deal.acme):
        assert client.get(made["download_url"], headers=who.headers).status_code == 404
        assert client.get(url, headers=who.headers).status_code == 404


def test_a_company_off_the_record_cannot_attach(client: TestClient, inbox: Inbox) -> None:
    deal = make_deal(client, inbox)
    stranger = upload(client, deal.initech, deal.record_id, "x.txt", b"x\n")
    assert_problem(stranger, 404, "not-found")
    assert files_of(client, deal.acme, deal.record_id) == []
