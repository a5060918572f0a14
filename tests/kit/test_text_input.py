"""Text no database can store (a NUL character, a lone surrogate) is refused with 422 and the
path of the value, in request bodies, query parameters and JSON carried inside text, on SQLite
exactly as on PostgreSQL (which alone refuses NUL); nothing is written, nothing answers 500, and
no error response tries to echo the text back."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.fixtures.builders import Member, make_company
from tests.fixtures.records import OPPS, create_record, put_template
from tests.web.conftest import Browser
from tests.web.html import parse

LONE = "\\ud800"  # as JSON writes it: the decoded string holds an unpaired surrogate
NUL = "\\u0000"
MARK = "@MARK@"


def _raw(value: Any, escape: str) -> str:
    """`value` as JSON text with MARK replaced by a JSON escape (httpx cannot encode a lone
    surrogate itself, and json.dumps would not write NUL as a JSON escape inside a key)."""
    return json.dumps(value).replace(MARK, escape)


def _post_json(client: TestClient, url: str, raw_json: str, who: Member) -> httpx.Response:
    """Send JSON text as written (httpx would refuse to encode a lone surrogate itself)."""
    headers = {**who.headers, "Content-Type": "application/json"}
    return client.post(url, content=raw_json.encode(), headers=headers)


def _refused(response: httpx.Response, path: str, what: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()  # the response itself is valid UTF-8 JSON
    assert [e["path"] for e in body["errors"]] == [path], body
    assert what in body["errors"][0]["message"], body


@pytest.fixture
def acme(client: TestClient) -> Member:
    member = make_company(client, "Acme text")
    put_template(client, member, {"key": "note", "type": "text", "visibility": "private"})
    return member


@pytest.mark.parametrize(("escape", "what"), [(LONE, "surrogate"), (NUL, "NUL")])
def test_a_space_field_core_field_or_key_with_unstorable_text_is_refused(
    client: TestClient, acme: Member, escape: str, what: str
) -> None:
    cases = [
        ({"title": "T", "fields": {"note": f"a{MARK}b"}}, "body.fields.note"),
        ({"title": f"T{MARK}"}, "body.title"),
        ({"title": "T", "fields": {f"note{MARK}": "x"}}, f"body.fields.note{escape}"),
        ({"title": "T", "fields": {"tags": ["ok", MARK]}}, "body.fields.tags.1"),
    ]
    for body, path in cases:
        response = _post_json(client, OPPS, _raw(body, escape), acme)
        _refused(response, path, what)
    listed = client.get(OPPS, headers=acme.headers).json()
    assert listed["items"] == []  # nothing was written


@pytest.mark.parametrize(("escape", "what"), [(LONE, "surrogate"), (NUL, "NUL")])
def test_a_patch_of_my_space_with_unstorable_text_changes_nothing(
    client: TestClient, acme: Member, escape: str, what: str
) -> None:
    record_id = create_record(client, acme, "Kept", note="before")
    response = client.patch(
        f"{OPPS}/{record_id}/spaces/mine",
        content=_raw({"fields": {"note": MARK}}, escape).encode(),
        headers={**acme.headers, "Content-Type": "application/json", "If-Match": "1"},
    )
    _refused(response, "body.fields.note", what)
    record = client.get(f"{OPPS}/{record_id}", headers=acme.headers).json()
    mine = next(s for s in record["spaces"] if s["is_mine"])
    assert mine["fields"]["note"] == "before"


@pytest.mark.parametrize(("escape", "what"), [(LONE, "surrogate"), (NUL, "NUL")])
def test_filters_holding_unstorable_text_are_refused_in_lists_exports_and_reports(
    client: TestClient, acme: Member, escape: str, what: str
) -> None:
    create_record(client, acme, "Listed", note="x")
    one = _raw({"field": "title", "op": "eq", "value": MARK}, escape)
    many = _raw({"field": "mine.note", "op": "in", "value": ["x", MARK]}, escape)
    named = _raw({"field": MARK, "op": "eq", "value": "x"}, escape)  # messages echo names
    for text, path in (
        (one, "query.filter.value"),
        (many, "query.filter.value.1"),
        (named, "query.filter.field"),
    ):
        for url in (OPPS, f"{OPPS}/count", f"{OPPS}/export"):
            response = client.get(url, params={"filter": text}, headers=acme.headers)
            _refused(response, path, what)
    report = json.dumps({"kind": "opportunity", "filters": [MARK]}).replace(f'"{MARK}"', many)
    _refused(
        _post_json(client, "/api/v1/reports/run", report, acme), "body.filters.0.value.1", what
    )


def test_a_nul_in_a_query_parameter_is_refused_with_its_name(
    client: TestClient, acme: Member
) -> None:
    create_record(client, acme, "Searchable")
    for url, name in (("/api/v1/search", "q"), ("/api/v1/companies", "q"), (OPPS, "sort")):
        response = client.get(url, params={name: "Sea\x00rch"}, headers=acme.headers)
        _refused(response, f"query.{name}", "NUL")


def _cursor(payload: Any) -> str:
    raw = json.dumps(payload, ensure_ascii=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_a_cursor_holding_a_lone_surrogate_is_not_a_cursor_this_list_gave_out(
    client: TestClient, acme: Member
) -> None:
    create_record(client, acme, "Paged")
    cursor = _cursor({"sort": "title,id", "after": ["\ud800"], "id": acme.company_id})
    response = client.get(OPPS, params={"sort": "title", "cursor": cursor}, headers=acme.headers)
    _refused(response, "query.cursor", "is not a cursor this list gave out")


def test_pages_refuse_json_text_holding_a_lone_surrogate(client: TestClient, acme: Member) -> None:
    browser = Browser(client)
    assert browser.login(acme.email).url.path == "/"
    create_record(client, acme, "Visible")
    lone_filter = _raw({"field": "title", "op": "eq", "value": MARK}, LONE)
    listed = browser.get("/opportunities", params={"filter": lone_filter})
    assert listed.status_code == 422
    assert "surrogate" in listed.text
    # saving the table as a view with that filter: refused, no view saved
    token = browser.page("/opportunities").form("/logout").fields()["csrf_token"]
    saved = browser.client.post(
        "/opportunities/views",
        data={"name": "Broken", "filter": lone_filter, "cols": "", "sort": ""},
        headers={"HX-Request": "true", "HX-Target": "record-table", "X-CSRF-Token": str(token)},
    )
    assert saved.status_code == 422
    assert "Broken" not in browser.page("/opportunities").text
    # a workflow file (the designer's import) with one in a stage name: the file field says
    # why, nothing is read into the designer (the designer itself takes no JSON text)
    new = "/settings/workflows/new"
    fields = browser.page(new).form(f"{new}/import").fields()
    stages = _raw([{"key": "new", "name": f"N{MARK}", "category": "open"}], LONE)
    body = f'{{"name": "Lone", "stages": {stages}}}'.encode()
    refused = browser.client.post(
        f"{new}/import", data=dict(fields), files={"file": ("w.json", body, "application/json")}
    )
    assert refused.status_code == 422
    assert "not a workflow exported from Coterie" in parse(refused.text).errors()["file"]
