"""GET /api/v1/companies and /companies/{id}, /companies/mine: the network directory."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, delete

from coterie.models import Company
from coterie.network import companies
from coterie.network.schemas import CompanyIn
from tests.fixtures.builders import Member, make_colleague, make_company, make_partnership
from tests.fixtures.smtp import Inbox
from tests.kit.assertions import (
    assert_invalid,
    assert_problem,
    row_counts,
)

ANY_ID = "0190d3b8-0000-7000-8000-000000000000"  # fixed: parameter ids must not vary


def names(client: TestClient, viewer: Member, **params: Any) -> list[str]:
    response = client.get("/api/v1/companies", params=params, headers=viewer.headers)
    assert response.status_code == 200, response.text
    return [c["name"] for c in response.json()["items"]]


def walk(client: TestClient, viewer: Member, **params: Any) -> list[dict[str, Any]]:
    """Every item of the directory, following next_cursor page by page."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(1000):
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = client.get("/api/v1/companies", params=query, headers=viewer.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= params.get("limit", 50)
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
        assert page["items"], "a page with a next cursor must not be empty"
    raise AssertionError("pagination did not end")


def cursor_of(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def test_the_directory_lists_every_company_in_name_order(client: TestClient) -> None:
    viewer = make_company(client, "beta Systems")
    make_company(client, "Alpha Cloud", industry="cloud", regions=["emea"], hq_country="FR")
    make_company(client, "Gamma Integrators")

    response = client.get("/api/v1/companies", headers=viewer.headers)

    assert response.status_code == 200, response.text
    page = response.json()
    listed = [c["name"] for c in page["items"]]
    assert listed == ["Alpha Cloud", "beta Systems", "Gamma Integrators"]
    assert page["next_cursor"] is None
    alpha = page["items"][0]
    assert alpha["industry"] == "cloud"
    assert alpha["regions"] == ["emea"]
    assert alpha["hq_country"] == "FR"
    assert alpha["partnership"] is None


def test_the_directory_needs_a_token(client: TestClient) -> None:
    assert_problem(client.get("/api/v1/companies"), 401, "unauthenticated")


def test_search_matches_name_domain_and_description_case_insensitively(
    client: TestClient,
) -> None:
    viewer = make_company(client, "Viewer", domain="viewer.example")
    make_company(client, "Northwind Traders", domain="northwind.example")
    make_company(client, "Contoso", domain="contoso-cloud.example")
    make_company(client, "Fabrikam", domain="fabrikam.example", description="Edge HARDWARE maker")

    assert names(client, viewer, q="NORTHWIND") == ["Northwind Traders"]
    assert names(client, viewer, q="wind trad") == ["Northwind Traders"]
    assert names(client, viewer, q="Contoso-Cloud") == ["Contoso"]
    assert names(client, viewer, q="hardware") == ["Fabrikam"]
    assert names(client, viewer, q="  fabrikam  ") == ["Fabrikam"]
    assert names(client, viewer, q="nothing like it") == []


def test_search_treats_percent_underscore_and_backslash_literally(client: TestClient) -> None:
    viewer = make_company(client, "Viewer", domain="viewer.example")
    make_company(client, "100% Cloud", domain="hundred.example")
    make_company(client, "Cloud_Ops", domain="cloudops.example")
    make_company(client, "Cloudy", domain="cloudy.example", description="back\\slash")

    assert names(client, viewer, q="%") == ["100% Cloud"]
    assert names(client, viewer, q="_") == ["Cloud_Ops"]
    assert names(client, viewer, q="d_o") == ["Cloud_Ops"]
    assert names(client, viewer, q="\\") == ["Cloudy"]
    assert names(client, viewer, q="0%") == ["100% Cloud"]


def test_search_folds_case_beyond_ascii(client: TestClient) -> None:
    viewer = make_company(client, "Viewer", domain="viewer.example")
    make_company(client, "Straße Systems", domain="strasse.example")
    make_company(client, "Ärzte Digital", domain="aerzte.example", description="Kliniken, Straße")

    assert names(client, viewer, q="STRASSE") == ["Straße Systems"]
    assert names(client, viewer, q="ärzte") == ["Ärzte Digital"]
    # the exact text of a description is found (it used to be casefolded to "strasse")
    assert names(client, viewer, q="Kliniken, Straße") == ["Ärzte Digital"]


def test_a_nul_character_in_the_search_is_refused_with_its_path(client: TestClient) -> None:
    viewer = make_company(client, "Viewer", domain="viewer.example")

    response = client.get("/api/v1/companies", params={"q": "View\x00"}, headers=viewer.headers)

    # no database stores or compares NUL alike: every API text input refuses it (kit.text_input)
    assert response.status_code == 422, response.text
    assert [e["path"] for e in response.json()["errors"]] == ["query.q"]


def test_filters_combine(client: TestClient) -> None:
    viewer = make_company(client, "Viewer")
    make_company(client, "A", industry="cloud", regions=["emea", "apac"], partner_types=["isv"])
    make_company(client, "B", industry="cloud", regions=["emea"], partner_types=["si"])
    make_company(client, "C", industry="software", regions=["emea"], partner_types=["isv"])
    make_company(client, "D", industry="cloud", regions=["apac"], partner_types=["isv", "si"])

    assert names(client, viewer, industry="cloud") == ["A", "B", "D"]
    assert names(client, viewer, region="emea") == ["A", "B", "C"]
    assert names(client, viewer, partner_type="isv") == ["A", "C", "D"]
    assert names(client, viewer, industry="cloud", region="emea") == ["A", "B"]
    assert names(client, viewer, industry="cloud", region="apac", partner_type="si") == ["D"]
    assert names(client, viewer, industry="cloud", region="emea", partner_type="isv", q="a") == [
        "A"
    ]
    assert names(client, viewer, industry="retail") == []


@pytest.mark.parametrize(
    ("param", "value"),
    [("industry", "astrology"), ("region", "mars"), ("partner_type", "pirate"), ("q", "q" * 201)],
)
def test_unknown_filter_values_and_overlong_searches_are_refused(
    client: TestClient, param: str, value: str
) -> None:
    viewer = make_company(client)

    response = client.get("/api/v1/companies", params={param: value}, headers=viewer.headers)

    assert_invalid(response, f"query.{param}")


def test_limit_2_walks_every_page_without_duplicates_or_gaps(client: TestClient) -> None:
    viewer = make_company(client, "Company 0")
    for name in ["echo", "Delta", "alpha", "Charlie", "bravo", "Alpha"]:
        make_company(client, name)

    items = walk(client, viewer, limit=2)

    ids = [c["id"] for c in items]
    assert len(ids) == len(set(ids)) == 7
    assert [c["name"].casefold() for c in items] == sorted(c["name"].casefold() for c in items)
    assert {c["id"] for c in items} == {c["id"] for c in walk(client, viewer, limit=500)}


@pytest.mark.parametrize("limit", [0, -1, 501, "many"])
def test_limits_out_of_range_are_refused(client: TestClient, limit: object) -> None:
    viewer = make_company(client)

    response = client.get("/api/v1/companies", params={"limit": limit}, headers=viewer.headers)

    assert_invalid(response, "query.limit")


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        "%%%",
        cursor_of(["alpha"]),  # wrong number of values
        cursor_of({"name": "alpha"}),
        cursor_of(["alpha", "not-a-uuid"]),
        cursor_of([1, ANY_ID]),  # used to reach PostgreSQL as varchar > integer
        cursor_of([None, ANY_ID]),
        cursor_of([{"a": 1}, ANY_ID]),
        cursor_of(["alpha", 7]),
        cursor_of(["al\x00pha", ANY_ID]),
        "x" * 501,
    ],
)
def test_a_cursor_the_list_did_not_give_out_is_refused(client: TestClient, cursor: str) -> None:
    viewer = make_company(client)

    response = client.get("/api/v1/companies", params={"cursor": cursor}, headers=viewer.headers)

    assert_invalid(response, "query.cursor")


def test_each_company_carries_the_partnership_status_seen_by_the_caller(
    client: TestClient,
) -> None:
    a = make_company(client, "A")
    b = make_company(client, "B")
    c = make_company(client, "C")
    pending = make_partnership(client, a, b, accept=False)

    def status_seen(viewer: Member) -> dict[str, Any]:
        items = client.get("/api/v1/companies", headers=viewer.headers).json()["items"]
        return {item["name"]: item["partnership"] for item in items}

    assert status_seen(a) == {
        "A": None,
        "B": {"id": pending, "status": "pending", "direction": "outgoing"},
        "C": None,
    }
    assert status_seen(b)["A"] == {"id": pending, "status": "pending", "direction": "incoming"}
    assert status_seen(c) == {"A": None, "B": None, "C": None}

    client.post(f"/api/v1/partnerships/{pending}/accept", headers=b.headers)
    assert status_seen(a)["B"] == {"id": pending, "status": "active", "direction": "outgoing"}
    assert status_seen(b)["A"] == {"id": pending, "status": "active", "direction": "incoming"}

    client.post(f"/api/v1/partnerships/{pending}/revoke", headers=b.headers)
    assert status_seen(a)["B"] is None
    assert status_seen(b)["A"] is None


def test_a_company_profile_by_id(client: TestClient) -> None:
    a = make_company(client, "A")
    b = make_company(client, "B", description="We build things.", partner_types=["msp"])
    partnership = make_partnership(client, a, b, accept=False)

    response = client.get(f"/api/v1/companies/{b.company_id}", headers=a.headers)

    assert response.status_code == 200, response.text
    profile = response.json()
    assert profile["id"] == b.company_id
    assert profile["name"] == "B"
    assert profile["description"] == "We build things."
    assert profile["partner_types"] == ["msp"]
    assert profile["partnership"] == {
        "id": partnership,
        "status": "pending",
        "direction": "outgoing",
    }


def test_an_unknown_company_is_404_and_a_malformed_id_is_422(client: TestClient) -> None:
    viewer = make_company(client)

    unknown = client.get(f"/api/v1/companies/{uuid.uuid4()}", headers=viewer.headers)
    malformed = client.get("/api/v1/companies/not-a-uuid", headers=viewer.headers)

    assert_problem(unknown, 404, "not-found")
    assert_invalid(malformed, "path.company_id")


def test_companies_mine_is_my_own_profile(client: TestClient) -> None:
    admin = make_company(client, "Mine", industry="retail")
    make_company(client, "Other")

    response = client.get("/api/v1/companies/mine", headers=admin.headers)

    assert response.status_code == 200, response.text
    assert (response.json()["id"], response.json()["industry"]) == (admin.company_id, "retail")


def test_an_admin_edits_the_company_profile(client: TestClient) -> None:
    admin = make_company(client, "Zeta Corp", industry="retail", hq_country="DE")
    viewer = make_company(client, "Viewer")

    response = client.patch(
        "/api/v1/companies/mine",
        json={
            "name": "Aardvark Corp",
            "description": "Now with more aardvarks.",
            "regions": ["latin-america"],
            "partner_types": ["reseller", "msp"],
            "currency": "gbp",
            "hq_country": None,
            "website": "https://aardvark.example/about",
        },
        headers=admin.headers,
    )

    assert response.status_code == 200, response.text
    profile = client.get(f"/api/v1/companies/{admin.company_id}", headers=viewer.headers).json()
    assert profile["name"] == "Aardvark Corp"
    assert profile["description"] == "Now with more aardvarks."
    assert profile["regions"] == ["latin-america"]
    assert profile["partner_types"] == ["msp", "reseller"]
    assert profile["currency"] == "GBP"
    assert profile["hq_country"] is None
    assert profile["industry"] == "retail"  # not sent, not changed
    assert profile["website"] == "https://aardvark.example/about"
    # the directory sorts and searches by the new name
    assert names(client, viewer) == ["Aardvark Corp", "Viewer"]
    assert names(client, viewer, q="aardvark") == ["Aardvark Corp"]
    assert names(client, viewer, q="zeta corp") == []


def test_null_for_a_required_profile_field_leaves_it_as_is(client: TestClient) -> None:
    admin = make_company(client, "Keep", currency="EUR", description="Kept.")

    response = client.patch(
        "/api/v1/companies/mine",
        json={"name": None, "currency": None, "description": None},
        headers=admin.headers,
    )

    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["currency"]) == ("Keep", "EUR")
    assert response.json()["description"] == "Kept."


@pytest.mark.parametrize("role", ["member", "manager"])
def test_only_an_admin_edits_the_company_profile(
    client: TestClient, inbox: Inbox, engine: Engine, role: str
) -> None:
    admin = make_company(client, "Original")
    colleague = make_colleague(client, admin, role, inbox=inbox)
    before = row_counts(engine)

    response = client.patch(
        "/api/v1/companies/mine", json={"name": "Hijacked"}, headers=colleague.headers
    )

    assert_problem(response, 403, "forbidden")
    assert client.get("/api/v1/companies/mine", headers=admin.headers).json()["name"] == "Original"
    assert row_counts(engine) == before


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"domain": "stolen.example"}, "body.domain"),
        ({"name": ""}, "body.name"),
        ({"name": "Acme\r\nBcc: victim@example.com"}, "body.name"),
        ({"currency": "EURO"}, "body.currency"),
        ({"hq_country": "XX"}, "body.hq_country"),
        ({"industry": "astrology"}, "body.industry"),
        ({"regions": ["mars"]}, "body.regions.0"),
        ({"website": "javascript:alert(document.cookie)"}, "body.website"),
        ({"description": "x\x00y"}, "body.description"),
    ],
)
def test_invalid_profile_edits_are_refused_and_change_nothing(
    client: TestClient, engine: Engine, body: dict[str, Any], path: str
) -> None:
    admin = make_company(client, "Original", domain="original.example")
    profile = client.get("/api/v1/companies/mine", headers=admin.headers).json()
    before = row_counts(engine)

    response = client.patch("/api/v1/companies/mine", json=body, headers=admin.headers)

    assert_invalid(response, path)
    assert client.get("/api/v1/companies/mine", headers=admin.headers).json() == profile
    assert row_counts(engine) == before


LETTERS = st.text(alphabet="abcdefgABCDEFG", min_size=1, max_size=6)


def test_pagination_returns_every_company_once_in_name_order(
    client: TestClient, app: FastAPI, engine: Engine
) -> None:
    viewer = make_company(client, "Viewer", domain="viewer.example")

    @given(company_names=st.lists(LETTERS, max_size=8), limit=st.integers(1, 3))
    def check(company_names: list[str], limit: int) -> None:
        expected = {viewer.company_id: "Viewer"}
        with app.state.session_factory() as session:  # other companies, without their admins
            session.execute(delete(Company).where(Company.id != uuid.UUID(viewer.company_id)))
            for n, name in enumerate(company_names):
                company = companies.create_company(
                    session, CompanyIn(name=name, domain=f"c{n}.example")
                )
                expected[str(company.id)] = name
            session.commit()

        items = walk(client, viewer, limit=limit)

        assert [c["id"] for c in items] == sorted(
            expected, key=lambda cid: (expected[cid].casefold(), uuid.UUID(cid))
        )

    check()
