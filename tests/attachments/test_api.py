"""Attachments through the API: upload, list, metadata, download and delete, as each company
may; types decided by content; the size limit and the scanner hook refuse with nothing stored."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from coterie.config import Settings
from tests.fixtures.activity import make_deal
from tests.fixtures.attachments import (
    EICAR,
    files_of,
    pdf_bytes,
    png_bytes,
    pptx_bytes,
    upload,
    uploaded,
    xlsx_bytes,
)
from tests.fixtures.funds import FUNDS, allot, approved, budget, network
from tests.fixtures.records import OPPS, create_record, invite
from tests.fixtures.smtp import Inbox
from tests.kit.assertions import assert_invalid, assert_problem

ATTACHMENTS = "/api/v1/attachments"


def stored_files(settings: Settings) -> set[Path]:
    root = settings.resolved_attachments_dir
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def test_a_file_attached_by_the_owner_is_listed_and_downloaded_by_the_partner(
    client: TestClient, inbox: Inbox
) -> None:
    deal = make_deal(client, inbox)
    content = pdf_bytes("Q3 joint plan")
    # the declared type is a lie: the content decides
    response = upload(client, deal.acme, deal.record_id, "Q3 plan.pdf", content, "text/html")
    assert response.status_code == 201, response.text
    made = response.json()
    assert response.headers["location"] == f"{ATTACHMENTS}/{made['id']}"
    assert made["content_type"] == "application/pdf"
    assert made["filename"] == "Q3 plan.pdf"
    assert made["size"] == len(content)
    assert made["uploaded_by"]["company_name"] == "Acme"
    assert made["subject_kind"] == "opportunity"
    assert made["can_delete"] is True

    listed = files_of(client, deal.globex, deal.record_id)
    assert [f["id"] for f in listed] == [made["id"]]
    assert listed[0]["is_mine"] is False
    assert listed[0]["can_delete"] is False
    meta = client.get(f"{ATTACHMENTS}/{made['id']}", headers=deal.globex.headers)
    assert meta.status_code == 200
    assert meta.json()["sha256"] == made["sha256"]
    got = client.get(made["download_url"], headers=deal.globex.headers)
    assert got.status_code == 200
    assert got.content == content


def test_a_download_is_always_an_attachment_that_no_browser_renders(
    client: TestClient, inbox: Inbox
) -> None:
    deal = make_deal(client, inbox)
    name = "Résumé \u2013 plan \u201cfinal\u201d.png"
    made = uploaded(client, deal.acme, deal.record_id, name, png_bytes())
    got = client.get(f"{ATTACHMENTS}/{made['id']}/content", headers=deal.acme.headers)
    assert got.status_code == 200
    disposition = got.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(name, safe='')}" in disposition
    assert got.headers["content-type"] == "image/png"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"].startswith("sandbox")
    assert "no-store" in got.headers["cache-control"]


def test_file_names_are_cleaned_of_paths_and_control_characters(
    client: TestClient, inbox: Inbox
) -> None:
    deal = make_deal(client, inbox)
    made = uploaded(
        client, deal.acme, deal.record_id, "..\\..\\etc/\u202epass\u200bwd.csv", b"a,b\n1,2\n"
    )
    assert made["filename"] == "pass wd.csv"
    assert made["content_type"] == "text/csv"


def test_office_documents_images_and_text_are_accepted_by_their_content(
    client: TestClient, inbox: Inbox
) -> None:
    deal = make_deal(client, inbox)
    accepted = {
        "numbers.xlsx": (xlsx_bytes(), "spreadsheetml.sheet"),
        "deck.pptx": (pptx_bytes(), "presentationml.presentation"),
        "notes.txt": (b"Next steps: call Globex\n", "text/plain"),
    }
    for name, (content, expected) in accepted.items():
        made = uploaded(client, deal.acme, deal.record_id, name, content)
        assert made["content_type"].endswith(expected), name


def test_an_html_page_renamed_pdf_is_refused_and_nothing_is_stored(
    client: TestClient, inbox: Inbox, settings: Settings
) -> None:
    deal = make_deal(client, inbox)
    before = stored_files(settings)
    refused = {
        "invoice.pdf": b"<!DOCTYPE html><html><body><script>steal()</script></body></html>",
        "logo.png": b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>',
        "report.txt": b"\x7fELF\x02\x01\x01\x00" + bytes(64),
        "tool.exe": pdf_bytes(),
        "setup.csv": b"#!/bin/sh\nrm -rf /\n",
    }
    for name, content in refused.items():
        response = upload(client, deal.acme, deal.record_id, name, content, "application/pdf")
        assert_invalid(response, "file", slug="attachment-type-not-allowed")
        assert "nothing was stored" in response.json()["detail"]
    assert files_of(client, deal.acme, deal.record_id) == []
    assert stored_files(settings) == before


def test_a_file_over_the_limit_gets_413_and_nothing_is_stored(
    client: TestClient, inbox: Inbox, settings: Settings
) -> None:
    deal = make_deal(client, inbox)
    settings.attachments_max_bytes = 2_000
    before = stored_files(settings)
    response = upload(client, deal.acme, deal.record_id, "big.csv", b"a,b\n" + b"1,2\n" * 600)
    body = assert_problem(response, 413, "attachment-too-large")
    assert "2 KB" in body["detail"]
    assert body["errors"][0]["path"] == "file"
    assert uploaded(client, deal.acme, deal.record_id, "small.csv", b"a,b\n1,2\n")
    assert len(files_of(client, deal.acme, deal.record_id)) == 1
    assert len(stored_files(settings) - before) == 1


def test_upload_paths_take_files_larger_than_other_requests_may_be(
    client: TestClient, inbox: Inbox, settings: Settings
) -> None:
    deal = make_deal(client, inbox)
    content = b"a,b\n" + b"1,2\n" * (settings.max_request_bytes // 4 + 1000)
    assert len(content) > settings.max_request_bytes
    made = uploaded(client, deal.acme, deal.record_id, "large.csv", content)
    assert made["size"] == len(content)
    elsewhere = client.post(
        f"{OPPS}/{deal.record_id}/comments",
        content=content,
        headers={**deal.acme.headers, "Content-Type": "application/json"},
    )
    assert_problem(elsewhere, 413, "payload-too-large")


def test_a_fund_claims_proof_may_be_as_large_as_any_other_file(client: TestClient) -> None:
    net = network(client)
    b = budget(client, net)
    allot(client, net.host, b["id"], net.partner)
    req = approved(client, net, b["id"], "1000.00")
    draft = client.post(
        f"{FUNDS}/requests/{req['id']}/claims",
        json={"amount": "600.00", "submit": False, "description": "Webinar run"},
        headers=net.partner.headers,
    )
    assert draft.status_code == 201, draft.text
    settings = client.app.state.settings  # type: ignore[attr-defined]
    content = b"name,company\n" + b"Attendee,Globex\n" * (settings.max_request_bytes // 16 + 100)
    assert len(content) > settings.max_request_bytes
    response = client.post(
        f"{FUNDS}/claims/{draft.json()['id']}/proof",
        files={"file": ("attendees.csv", content, "text/csv")},
        headers=net.partner.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["size"] == len(content)


def test_a_body_far_over_the_limit_is_cut_off_before_it_is_read(
    client: TestClient, inbox: Inbox
) -> None:
    deal = make_deal(client, inbox)
    limit = client.app.state.settings.attachments_max_bytes  # type: ignore[attr-defined]
    response = client.post(
        f"{OPPS}/{deal.record_id}/attachments",
        content=b"x" * 10,
        headers={
            **deal.acme.headers,
            "Content-Type": "multipart/form-data; boundary=b",
            "Content-Length": str(limit + 2_000_000),
        },
    )
    assert_problem(response, 413, "payload-too-large")


def test_the_scanner_hook_refuses_an_infected_file_and_lets_clean_ones_through(
    client: TestClient, inbox: Inbox, settings: Settings
) -> None:
    deal = make_deal(client, inbox)
    settings.attachments_scanner = "tests.attachments.scanners:eicar"
    before = stored_files(settings)
    response = upload(client, deal.acme, deal.record_id, "eicar.txt", EICAR)
    assert_invalid(response, "file", slug="attachment-infected")
    assert "Eicar-Test-Signature" in response.json()["detail"]
    assert stored_files(settings) == before
    assert files_of(client, deal.acme, deal.record_id) == []
    assert uploaded(client, deal.acme, deal.record_id, "clean.txt", b"all good\n")


def test_a_scanner_that_fails_stores_nothing_and_says_to_try_later(
    client: TestClient, inbox: Inbox, settings: Settings
) -> None:
    deal = make_deal(client, inbox)
    settings.attachments_scanner = "tests.attachments.scanners:broken"
    before = stored_files(settings)
    response = upload(client, deal.acme, deal.record_id, "notes.txt", b"hello\n")
    assert_problem(response, 503, "attachment-scanner-unavailable")
    assert stored_files(settings) == before
    assert files_of(client, deal.acme, deal.record_id) == []


def test_no_file_part_is_a_precise_422(client: TestClient, inbox: Inbox) -> None:
    deal = make_deal(client, inbox)
    response = client.post(
        f"{OPPS}/{deal.record_id}/attachments",
        data={"note": "no file"},
        headers=deal.acme.headers,
    )
    assert_invalid(response, "file")
    empty = upload(client, deal.acme, deal.record_id, "empty.txt", b"")
    assert_invalid(empty, "file", slug="attachment-empty")


def test_who_may_attach_and_who_may_delete(
    client: TestClient, inbox: Inbox, settings: Settings
) -> None:
    deal = make_deal(client, inbox)
    # a company invited but not yet on the record (it sees the invitation, not the record),
    # and a record that does not exist
    invite(client, deal.acme, deal.record_id, deal.initech)
    assert_problem(upload(client, deal.initech, deal.record_id, "x.txt", b"x\n"), 404, "not-found")
    assert_problem(upload(client, deal.initech, "0" * 32, "x.txt", b"x\n"), 404, "not-found")

    acme_file = uploaded(client, deal.acme, deal.record_id, "acme.txt", b"from acme\n")
    globex_file = uploaded(client, deal.globex, deal.record_id, "globex.txt", b"from globex\n")
    globex_view = {f["id"]: f for f in files_of(client, deal.globex, deal.record_id)}
    assert globex_view[globex_file["id"]]["can_delete"] is True
    assert globex_view[acme_file["id"]]["can_delete"] is False
    assert_problem(
        client.delete(f"{ATTACHMENTS}/{acme_file['id']}", headers=deal.globex.headers),
        403,
        "forbidden",
    )
    # the record's owner may remove a partner's file; the content goes with it
    before = stored_files(settings)
    gone = client.delete(f"{ATTACHMENTS}/{globex_file['id']}", headers=deal.acme.headers)
    assert gone.status_code == 204
    assert len(before - stored_files(settings)) == 1
    assert_problem(
        client.get(f"{ATTACHMENTS}/{globex_file['id']}/content", headers=deal.globex.headers),
        404,
        "not-found",
    )
    assert [f["id"] for f in files_of(client, deal.globex, deal.record_id)] == [acme_file["id"]]


def test_uploads_and_deletes_leave_audit_rows(
    client: TestClient, inbox: Inbox, engine: Engine
) -> None:
    deal = make_deal(client, inbox)
    made = uploaded(client, deal.globex, deal.record_id, "proof.png", png_bytes())
    assert (
        client.delete(f"{ATTACHMENTS}/{made['id']}", headers=deal.globex.headers).status_code == 204
    )
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT action, company_id FROM audit_events WHERE subject_id = :id "
                "ORDER BY created_at"
            ),
            {"id": made["id"]},
        ).all()
    assert [r[0] for r in rows] == ["attachment.uploaded", "attachment.deleted"]
    assert {str(r[1]).replace("-", "") for r in rows} == {deal.globex.company_id.replace("-", "")}


def test_the_list_is_paginated_oldest_first(client: TestClient, inbox: Inbox) -> None:
    deal = make_deal(client, inbox)
    ids = [uploaded(client, deal.acme, deal.record_id, f"{n}.txt", b"n\n")["id"] for n in range(3)]
    first = client.get(
        f"{OPPS}/{deal.record_id}/attachments", params={"limit": 2}, headers=deal.acme.headers
    ).json()
    assert [f["id"] for f in first["items"]] == ids[:2]
    rest = client.get(
        f"{OPPS}/{deal.record_id}/attachments",
        params={"limit": 2, "cursor": first["next_cursor"]},
        headers=deal.acme.headers,
    ).json()
    assert [f["id"] for f in rest["items"]] == ids[2:]
    assert rest["next_cursor"] is None


def test_a_record_of_another_kind_takes_files_too(client: TestClient, inbox: Inbox) -> None:
    deal = make_deal(client, inbox)
    account = client.post(
        "/api/v1/accounts", json={"title": "Initrode", "fields": {}}, headers=deal.acme.headers
    )
    assert account.status_code == 201, account.text
    made = uploaded_to(client, deal, account.json()["id"])
    assert made["subject_kind"] == "account"
    assert create_record  # the opportunity builder is the default elsewhere


def uploaded_to(client: TestClient, deal: object, account_id: str) -> dict[str, object]:
    acme = deal.acme  # type: ignore[attr-defined]
    response = upload(client, acme, account_id, "brief.txt", b"brief\n", base="/api/v1/accounts")
    assert response.status_code == 201, response.text
    result: dict[str, object] = response.json()
    return result
