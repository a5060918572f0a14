"""Numbers and money in space fields: huge or tiny exponents, NaN and infinities are refused
with 422 and the field's path (never a decimal overflow turned into a 500), and money is never
negative, in the standard amount and in custom money fields alike, on create, on a space
update and as a template default. Nothing is written when a value is refused."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.fixtures.builders import Member, make_company
from tests.fixtures.records import OPPS, create_record, put_template
from tests.fixtures.versions import matching

TEMPLATE = (
    {"key": "seats", "type": "number", "visibility": "private"},
    {"key": "budget", "type": "money", "visibility": "private"},
)
OUT_OF_RANGE = (
    "1e1000000", "-1e1000000", "1e-1000000", "1E+999999999999999999", "1e16", "-1e16",
    "1e-16", "NaN", "-NaN", "sNaN", "Infinity", "-Infinity", "inf",
)  # fmt: skip


@pytest.fixture
def acme(client: TestClient) -> Member:
    member = make_company(client, "Numbers", currency="EUR")
    put_template(client, member, *TEMPLATE)
    return member


def _create(client: TestClient, who: Member, **fields: Any) -> httpx.Response:
    return client.post(OPPS, json={"title": "Deal", "fields": fields}, headers=who.headers)


def _refused(response: httpx.Response, path: str) -> str:
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["path"] == path, response.text
    return str(error["message"])


def _count(client: TestClient, who: Member) -> int:
    return int(client.get(f"{OPPS}/count", headers=who.headers).json()["count"])


@pytest.mark.parametrize("text", OUT_OF_RANGE)
def test_numbers_out_of_range_are_refused_for_every_numeric_field(
    client: TestClient, acme: Member, text: str
) -> None:
    for fields, path in (
        ({"seats": text}, "body.fields.seats"),
        ({"amount": text}, "body.fields.amount"),
        ({"amount": {"value": text, "currency": "USD"}}, "body.fields.amount.value"),
        ({"budget": text}, "body.fields.budget"),
        ({"budget": {"value": text}}, "body.fields.budget.value"),
    ):
        message = _refused(_create(client, acme, **fields), path)
        assert message.startswith("must be a finite number below 10^"), message
    assert _count(client, acme) == 0


def test_json_number_literals_out_of_range_are_refused(client: TestClient, acme: Member) -> None:
    for literal in ("1e400", "-1e400", "NaN", "Infinity", "-Infinity"):
        body = {"title": "Deal", "fields": {"seats": "?", "amount": 1}}
        raw = json.dumps(body).replace('"?"', literal)
        response = client.post(
            OPPS,
            content=raw.encode(),
            headers={**acme.headers, "Content-Type": "application/json"},
        )
        _refused(response, "body.fields.seats")
    assert _count(client, acme) == 0


def test_the_edges_of_the_range_are_stored_exactly(client: TestClient, acme: Member) -> None:
    record_id = create_record(
        client,
        acme,
        "Edges",
        seats="9999999999999999",
        amount="9999999999999.99",
        budget={"value": "0.01", "currency": "USD"},
    )
    body = client.get(f"{OPPS}/{record_id}", headers=acme.headers).json()
    fields = next(s for s in body["spaces"] if s["is_mine"])["fields"]
    assert fields["seats"] == 9999999999999999
    assert fields["amount"] == {"value": "9999999999999.99", "currency": "EUR"}
    assert fields["budget"] == {"value": "0.01", "currency": "USD"}
    tiny = create_record(client, acme, "Tiny", seats="1e-15", amount="-0")
    body = client.get(f"{OPPS}/{tiny}", headers=acme.headers).json()
    fields = next(s for s in body["spaces"] if s["is_mine"])["fields"]
    assert fields["seats"] == 1e-15
    assert fields["amount"] == {"value": "0.00", "currency": "EUR"}  # not "-0.00"


@pytest.mark.parametrize("amount", [-5, -0.01, "-1", "-0.01"])
def test_negative_money_is_refused_on_create_and_on_update(
    client: TestClient, acme: Member, amount: Any
) -> None:
    for fields, path in (
        ({"amount": amount}, "body.fields.amount"),
        ({"amount": {"value": str(amount), "currency": "USD"}}, "body.fields.amount.value"),
        ({"budget": amount}, "body.fields.budget"),
        ({"budget": {"value": str(amount)}}, "body.fields.budget.value"),
    ):
        assert "negative" in _refused(_create(client, acme, **fields), path)
    assert _count(client, acme) == 0

    record_id = create_record(client, acme, "Kept", amount=10, budget=20)
    response = client.patch(
        f"{OPPS}/{record_id}/spaces/mine",
        json={"fields": {"seats": 3, "amount": amount}},
        headers={**acme.headers, "If-Match": "1"},
    )
    assert "negative" in _refused(response, "body.fields.amount")
    body = client.get(f"{OPPS}/{record_id}", headers=acme.headers).json()
    mine = next(s for s in body["spaces"] if s["is_mine"])
    assert mine["fields"]["amount"] == {"value": "10.00", "currency": "EUR"}
    assert "seats" not in mine["fields"]  # nothing of the refused update was written
    assert mine["version"] == 1


def test_money_stays_below_ten_trillion_so_both_databases_keep_every_cent(
    client: TestClient, acme: Member
) -> None:
    for fields, path in (
        ({"amount": "10000000000000"}, "body.fields.amount"),
        ({"budget": {"value": 1e13}}, "body.fields.budget.value"),
    ):
        assert "10^13" in _refused(_create(client, acme, **fields), path)
    assert _create(client, acme, seats="1e15").status_code == 201  # numbers go higher
    amounts = ["9999999999999.99", "9007199254740.99", "1234567890123.45"]
    for amount in amounts:
        create_record(client, acme, amount, amount=amount)
    listed = client.get(OPPS, params={"sort": "-mine.amount"}, headers=acme.headers).json()
    values = [
        next(s for s in r["spaces"] if s["is_mine"])["fields"].get("amount", {}).get("value")
        for r in listed["items"]
        if r["title"] in amounts
    ]
    assert values == sorted(amounts, reverse=True)


def test_a_template_default_is_checked_like_a_value(client: TestClient, acme: Member) -> None:
    for default, what in (("-3", "negative"), ("1e1000000", "10^13"), ("NaN", "10^13")):
        url = "/api/v1/templates/opportunity"
        response = client.put(
            url,
            json={"fields": [{"key": "budget", "type": "money", "default": default}]},
            headers=matching(client, acme, url),
        )
        assert what in _refused(response, "body.fields.0.default")


def test_a_cursor_holding_an_amount_out_of_range_is_not_one_this_list_gave_out(
    client: TestClient, acme: Member
) -> None:
    create_record(client, acme, "Paged", amount=5)
    payload = {"sort": "-mine.amount,id", "after": ["1e1000000"], "id": acme.company_id}
    cursor = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    response = client.get(
        OPPS, params={"sort": "-mine.amount", "cursor": cursor}, headers=acme.headers
    )
    assert _refused(response, "query.cursor") == "is not a cursor this list gave out"
