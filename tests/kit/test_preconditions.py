"""If-Match on versioned writes: required (428), parsed strictly (422 naming header.If-Match,
never a 500), compared by the database (412 with the current version), answered with an ETag."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from coterie.kit.preconditions import parse_if_match, version_in
from coterie.kit.problems import Problem
from tests.fixtures.builders import make_company
from tests.fixtures.records import OPPS, create_record
from tests.kit.assertions import assert_invalid, assert_problem


@pytest.mark.parametrize(
    ("header", "version"),
    [("3", 3), ('"3"', 3), ('W/"3"', 3), (' "12" ', 12), ("0", 0), ("999999999", 999999999)],
)
def test_the_forms_of_an_etag_name_their_version(header: str, version: int) -> None:
    assert parse_if_match(header) == version
    assert version_in(header) == version


@pytest.mark.parametrize(
    "header",
    ["²", '"²"', "\u0663", "\uff13", "*", '"1", "2"', '"3', "3.0", "-1", "", "1" * 10, "W/3x"],
)
def test_anything_else_is_a_422_naming_the_header(header: str) -> None:
    assert version_in(header) is None
    with pytest.raises(Problem) as raised:
        parse_if_match(header)
    assert raised.value.status == 422
    assert raised.value.errors == [
        {
            "path": "header.If-Match",
            "message": raised.value.errors[0]["message"],
            "type": "validation-error",
        }
    ]


def test_no_header_is_none_for_the_parser() -> None:
    assert parse_if_match(None) is None


def test_a_write_without_if_match_is_428_and_says_where_the_version_comes_from(
    client: TestClient,
) -> None:
    acme = make_company(client, "Acme")
    record_id = create_record(client, acme, "Deal", amount=10)
    url = f"{OPPS}/{record_id}"

    core = assert_problem(
        client.patch(url, json={"title": "Blind"}, headers=acme.headers),
        428,
        "precondition-required",
    )
    assert "If-Match" in core["detail"]
    assert "ETag" in core["detail"]
    assert "GET /api/v1/opportunities/{id}" in core["detail"]
    space = assert_problem(
        client.patch(f"{url}/spaces/mine", json={"fields": {"amount": 1}}, headers=acme.headers),
        428,
        "precondition-required",
    )
    assert "your space's version" in space["detail"]
    template = assert_problem(
        client.put("/api/v1/templates/opportunity", json={"fields": []}, headers=acme.headers),
        428,
        "precondition-required",
    )
    assert "0: none yet" in template["detail"]
    # nothing was written
    after = client.get(url, headers=acme.headers)
    assert after.json()["title"] == "Deal"
    assert after.json()["version"] == 1


@pytest.mark.parametrize("header", ["²", '"¹"', "*", "9" * 30])
def test_a_bogus_if_match_is_422_never_a_500(client: TestClient, header: str) -> None:
    acme = make_company(client, "Acme")
    record_id = create_record(client, acme, "Deal")
    url = f"{OPPS}/{record_id}"

    # the bytes a client sends; the server reads them as Latin-1, where b"\xb2" is "²"
    headers: dict[str, str | bytes] = {**acme.headers, "If-Match": header.encode("latin-1")}
    response = client.patch(url, json={"title": "X"}, headers=headers)

    assert_invalid(response, "header.If-Match")
    assert client.get(url, headers=acme.headers).json()["title"] == "Deal"


def test_the_etag_round_trips_and_a_stale_one_is_412_with_the_current_version(
    client: TestClient,
) -> None:
    acme = make_company(client, "Acme")
    record_id = create_record(client, acme, "Deal")
    url = f"{OPPS}/{record_id}"
    etag = client.get(url, headers=acme.headers).headers["ETag"]
    assert etag == '"1"'

    first = client.patch(url, json={"title": "One"}, headers={**acme.headers, "If-Match": etag})
    assert first.status_code == 200, first.text
    assert first.headers["ETag"] == '"2"'
    weak = client.patch(url, json={"title": "Two"}, headers={**acme.headers, "If-Match": 'W/"2"'})
    assert weak.status_code == 200, weak.text

    stale = client.patch(url, json={"title": "Lost"}, headers={**acme.headers, "If-Match": etag})
    body = assert_problem(stale, 412, "version-mismatch")
    assert body["current_version"] == 3
    assert client.get(url, headers=acme.headers).json()["title"] == "Two"


def test_an_empty_patch_still_checks_the_version(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    record_id = create_record(client, acme, "Deal")
    url = f"{OPPS}/{record_id}"

    stale = client.patch(url, json={}, headers={**acme.headers, "If-Match": "7"})
    assert_problem(stale, 412, "version-mismatch")
    same = client.patch(url, json={}, headers={**acme.headers, "If-Match": "1"})
    assert same.status_code == 200
    assert same.json()["version"] == 1  # nothing changed, nothing claimed
