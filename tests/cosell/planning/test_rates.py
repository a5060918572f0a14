"""Exchange rates: each company keeps its own dated rates; admins save them; bad input is a 422
naming the field; nobody else ever sees or touches them."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.fixtures.builders import make_colleague, make_company
from tests.fixtures.cosell import API, rates
from tests.fixtures.smtp import Inbox

URL = f"{API}/exchange-rates"


def test_save_list_replace_and_delete_rates(client: TestClient) -> None:
    acme = make_company(client, "Acme", currency="USD")
    rates(client, acme, ("eur", "1.10", "2026-01-01"), ("GBP", "1.25", "2026-01-01"))
    rates(client, acme, ("EUR", "1.2", "2026-03-01"), ("EUR", "1.15", "2026-01-01"))
    listed = client.get(URL, headers=acme.headers).json()
    assert listed["currency"] == "USD"
    assert [(r["currency"], r["valid_from"], r["rate"]) for r in listed["items"]] == [
        ("EUR", "2026-03-01", "1.2000000000"),
        ("EUR", "2026-01-01", "1.1500000000"),  # same currency and day: replaced
        ("GBP", "2026-01-01", "1.2500000000"),
    ]
    gbp = listed["items"][2]["id"]
    assert client.delete(f"{URL}/{gbp}", headers=acme.headers).status_code == 204
    assert client.delete(f"{URL}/{gbp}", headers=acme.headers).status_code == 404
    assert [r["currency"] for r in client.get(URL, headers=acme.headers).json()["items"]] == [
        "EUR",
        "EUR",
    ]


def test_rates_are_checked_with_field_paths(client: TestClient) -> None:
    acme = make_company(client, "Acme", currency="USD")
    good = {"currency": "EUR", "rate": "1.1", "valid_from": "2026-01-01"}
    cases: list[tuple[Any, str]] = [
        ([good, good | {"currency": "XYZ"}], "body.1.currency"),
        ([good | {"rate": "0"}], "body.0.rate"),
        ([good | {"rate": "-2"}], "body.0.rate"),
        ([good | {"rate": "abc"}], "body.0.rate"),
        ([good | {"valid_from": "2026-02-30"}], "body.0.valid_from"),
        ([{"currency": "EUR", "rate": "1"}], "body.0.valid_from"),
        ([good | {"currency": "USD"}], "body.0.currency"),
        ([good, good | {"rate": "1.3"}], "body.1.valid_from"),
        ({"currency": "EUR"}, "body"),
    ]
    for body, path in cases:
        response = client.put(URL, json=body, headers=acme.headers)
        assert response.status_code == 422, (body, response.text)
        assert path in [e["path"] for e in response.json()["errors"]], (body, response.text)
    assert client.get(URL, headers=acme.headers).json()["items"] == []  # nothing half-saved


def test_only_admins_change_rates_and_companies_see_only_their_own(
    client: TestClient, inbox: Inbox
) -> None:
    acme = make_company(client, "Acme", currency="USD")
    beta = make_company(client, "Beta", currency="EUR")
    rates(client, acme, ("EUR", "1.10", "2026-01-01"))
    manager = make_colleague(client, acme, "manager", inbox=inbox)
    body = [{"currency": "GBP", "rate": "1.2", "valid_from": "2026-01-01"}]
    assert client.put(URL, json=body, headers=manager.headers).status_code == 403
    assert len(client.get(URL, headers=manager.headers).json()["items"]) == 1
    assert client.get(URL, headers=beta.headers).json() == {"currency": "EUR", "items": []}
    rate_id = client.get(URL, headers=acme.headers).json()["items"][0]["id"]
    assert client.delete(f"{URL}/{rate_id}", headers=beta.headers).status_code == 404
    assert len(client.get(URL, headers=acme.headers).json()["items"]) == 1
