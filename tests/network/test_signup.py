"""POST /api/v1/signup: a company joins the network with its first admin, or nothing is written."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from coterie.config import Settings
from tests.fixtures.builders import PASSWORD, make_company
from tests.kit.assertions import (
    assert_invalid,
    assert_problem,
    bearer,
    empty_all_tables,
    row_counts,
)


def signup_body(
    *,
    name: str = "Acme Analytics",
    domain: str = "acme.example",
    email: str = "ada@acme.example",
    password: str = PASSWORD,
    **company: Any,
) -> dict[str, Any]:
    return {
        "company": {"name": name, "domain": domain, **company},
        "user": {"name": "Ada Lovelace", "email": email, "password": password},
    }


def test_signup_creates_the_company_and_its_admin_signed_in(client: TestClient) -> None:
    response = client.post(
        "/api/v1/signup",
        json=signup_body(
            industry="software",
            regions=["emea", "apac", "emea"],
            hq_country="de",
            description="Analytics for partner teams.",
            size="51-200",
            partner_types=["si", "isv"],
            currency="eur",
            website="https://acme.example",
        ),
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"token", "company_id", "user_id"}
    me = client.get("/api/v1/me", headers=bearer(body["token"]))
    assert me.status_code == 200, me.text
    user, company = me.json()["user"], me.json()["company"]
    assert user["id"] == body["user_id"]
    assert user["email"] == "ada@acme.example"
    assert user["name"] == "Ada Lovelace"
    assert user["role"] == "admin"
    assert user["is_active"] is True
    assert company["id"] == body["company_id"]
    assert company["name"] == "Acme Analytics"
    assert company["domain"] == "acme.example"
    assert company["industry"] == "software"
    assert company["regions"] == ["apac", "emea"]
    assert company["hq_country"] == "DE"
    assert company["description"] == "Analytics for partner teams."
    assert company["size"] == "51-200"
    assert company["partner_types"] == ["isv", "si"]
    assert company["currency"] == "EUR"
    assert company["website"] == "https://acme.example"


def test_signup_normalizes_the_domain_and_the_email(client: TestClient) -> None:
    response = client.post(
        "/api/v1/signup",
        json=signup_body(domain="https://WWW.Acme.Example/", email="  Ada@ACME.example "),
    )

    assert response.status_code == 201, response.text
    me = client.get("/api/v1/me", headers=bearer(response.json()["token"])).json()
    assert me["company"]["domain"] == "acme.example"
    assert me["user"]["email"] == "ada@acme.example"
    login = client.post(
        "/api/v1/auth/token", json={"email": "ADA@acme.example", "password": PASSWORD}
    )
    assert login.status_code == 200, login.text


def test_profile_fields_are_optional_with_sensible_defaults(client: TestClient) -> None:
    token = client.post("/api/v1/signup", json=signup_body()).json()["token"]

    company = client.get("/api/v1/me", headers=bearer(token)).json()["company"]
    assert company["currency"] == "USD"
    assert company["regions"] == []
    assert company["partner_types"] == []
    assert company["industry"] is None
    assert company["description"] == ""


@pytest.mark.parametrize("email", ["ada@acme.example", "ADA@Acme.Example"])
def test_an_email_that_already_has_an_account_is_refused(
    client: TestClient, engine: Engine, email: str
) -> None:
    make_company(client, email="ada@acme.example")
    before = row_counts(engine)

    response = client.post("/api/v1/signup", json=signup_body(domain="other.example", email=email))

    assert_problem(response, 409, "email-taken")
    assert row_counts(engine) == before


@pytest.mark.parametrize(
    "domain", ["acme.example", "ACME.example", "www.acme.example", "https://www.acme.example/"]
)
def test_a_domain_already_on_the_network_is_refused(
    client: TestClient, engine: Engine, domain: str
) -> None:
    make_company(client, domain="acme.example")
    before = row_counts(engine)

    response = client.post(
        "/api/v1/signup", json=signup_body(domain=domain, email="grace@elsewhere.example")
    )

    body = assert_problem(response, 409, "company-domain-taken")
    assert "acme.example" in body["detail"]
    assert row_counts(engine) == before


@pytest.mark.parametrize(
    "password",
    [
        "short1!",  # under 10 characters
        "password1234",  # a common password
        "aaaaaaaaaaaa",  # repetition
        "acmeanalytics",  # the company's own name
    ],
)
def test_a_weak_password_is_refused_naming_the_field(
    client: TestClient, engine: Engine, password: str
) -> None:
    before = row_counts(engine)

    response = client.post("/api/v1/signup", json=signup_body(password=password))

    assert_invalid(response, "body.user.password", slug="weak-password")
    assert row_counts(engine) == before


def test_a_weak_password_answer_says_why(client: TestClient) -> None:
    response = client.post("/api/v1/signup", json=signup_body(password="short1!"))

    body = assert_problem(response, 422, "weak-password")
    assert body["errors"][0]["path"] == "body.user.password"
    assert "10 characters" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("domain", "localhost", "body.company.domain"),
        ("domain", "not a domain", "body.company.domain"),
        ("domain", "-acme.example", "body.company.domain"),
        ("domain", "acme..example", "body.company.domain"),
        ("domain", "", "body.company.domain"),
        ("name", "", "body.company.name"),
        ("name", "   ", "body.company.name"),
        ("name", "N" * 201, "body.company.name"),
        ("name", "Acme\x00Analytics", "body.company.name"),
        ("name", "Acme\nBcc: victim@example.com", "body.company.name"),  # ends up in subjects
        ("industry", "astrology", "body.company.industry"),
        ("regions", ["emea", "atlantis"], "body.company.regions.1"),
        ("partner_types", ["reseller", "pirate"], "body.company.partner_types.1"),
        ("size", "huge", "body.company.size"),
        ("hq_country", "XX", "body.company.hq_country"),
        ("hq_country", "Germany", "body.company.hq_country"),
        ("hq_country", "ß", "body.company.hq_country"),  # "ß".upper() == "SS" (South Sudan)
        ("currency", "EURO", "body.company.currency"),
        ("currency", "XYZ", "body.company.currency"),
        ("website", "javascript:alert(1)", "body.company.website"),
        ("website", "acme", "body.company.website"),
        ("description", "d" * 5001, "body.company.description"),
        ("description", "nul\x00byte", "body.company.description"),
        ("tier", "gold", "body.company.tier"),
    ],
)
def test_invalid_company_fields_are_refused_naming_the_field(
    client: TestClient, engine: Engine, field: str, value: object, path: str
) -> None:
    body = signup_body()
    body["company"][field] = value
    before = row_counts(engine)

    response = client.post("/api/v1/signup", json=body)

    assert_invalid(response, path)
    assert row_counts(engine) == before


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"email": "not-an-email"}, "body.user.email"),
        ({"email": "ada\x00@acme.example"}, "body.user.email"),
        ({"name": ""}, "body.user.name"),
        ({"password": "x" * 257}, "body.user.password"),
        ({"name": "Ada\x00"}, "body.user.name"),
        ({"name": "Ada\r\nLovelace"}, "body.user.name"),
        ({"role": "admin"}, "body.user.role"),
    ],
)
def test_invalid_user_fields_are_refused_naming_the_field(
    client: TestClient, engine: Engine, change: dict[str, str], path: str
) -> None:
    body = signup_body()
    body["user"].update(change)
    before = row_counts(engine)

    response = client.post("/api/v1/signup", json=body)

    assert_invalid(response, path)
    assert row_counts(engine) == before


def test_unknown_top_level_fields_and_missing_fields_are_refused(
    client: TestClient, engine: Engine
) -> None:
    before = row_counts(engine)

    extra = client.post("/api/v1/signup", json={**signup_body(), "plan": "enterprise"})
    missing = client.post("/api/v1/signup", json={"company": {"name": "Acme"}})

    assert_invalid(extra, "body.plan")
    assert_invalid(missing, "body.company.domain", "body.user")
    assert row_counts(engine) == before


def test_signup_can_be_disabled(client: TestClient, engine: Engine, settings: Settings) -> None:
    settings.signup_enabled = False
    before = row_counts(engine)

    response = client.post("/api/v1/signup", json=signup_body())

    assert_problem(response, 403, "signup-disabled")
    assert row_counts(engine) == before


def test_a_long_name_whose_folded_form_grows_is_accepted(client: TestClient) -> None:
    # "ß".casefold() == "ss": the search key is longer than the 200-character name
    name = "Straße" * 33 + "ß"
    admin = make_company(client, name, domain="strasse.example")

    found = client.get("/api/v1/companies", params={"q": "STRASSE"}, headers=admin.headers)

    assert found.status_code == 200, found.text
    assert [c["name"] for c in found.json()["items"]] == [name]


def test_the_new_admin_is_listed_as_the_companys_only_user(client: TestClient) -> None:
    admin = make_company(client)

    users = client.get("/api/v1/users", headers=admin.headers).json()["items"]

    assert [(u["id"], u["role"]) for u in users] == [(admin.user_id, "admin")]
    assert uuid.UUID(admin.company_id)


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
COMPANY_KEYS = [
    "name",
    "domain",
    "industry",
    "regions",
    "hq_country",
    "description",
    "size",
    "partner_types",
    "currency",
    "website",
]
PLAUSIBLE = {
    "name": st.text(max_size=40),
    "domain": st.sampled_from(["acme.example", "www.Acme.example", "x.y", "bad domain"])
    | st.text(max_size=20),
    "industry": st.sampled_from(["software", "cloud", "astrology"]),
    "regions": st.lists(st.sampled_from(["emea", "apac", "mars"]), max_size=5),
    "hq_country": st.sampled_from(["DE", "fr", "XX", "ß"]) | st.text(max_size=3),
    "description": st.text(max_size=60),
    "size": st.sampled_from(["1-50", "5001+", "huge"]),
    "partner_types": st.lists(st.sampled_from(["isv", "si", "pirate"]), max_size=3),
    "currency": st.sampled_from(["EUR", "usd", "XYZ"]) | st.text(max_size=4),
    "website": st.sampled_from(["https://acme.example", "javascript:x"]) | st.text(max_size=20),
}
PLAUSIBLE_BODIES = st.fixed_dictionaries(
    {
        "company": st.fixed_dictionaries(
            {"name": PLAUSIBLE["name"], "domain": PLAUSIBLE["domain"]},
            optional={k: PLAUSIBLE[k] | JSON for k in COMPANY_KEYS[2:]},
        ),
        "user": st.fixed_dictionaries(
            {
                "name": st.text(max_size=30),
                "email": st.sampled_from(["ada@acme.example", "bad"]) | st.emails(),
                "password": st.sampled_from([PASSWORD, "weak"]) | st.text(max_size=30),
            }
        ),
    }
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=JSON | PLAUSIBLE_BODIES)
def test_no_body_makes_signup_fail_with_a_500_or_write_partially(
    client: TestClient, engine: Engine, body: object
) -> None:
    before = row_counts(engine)

    response = client.post("/api/v1/signup", json=body)

    after = row_counts(engine)
    if response.status_code == 201:
        assert after["companies"] == before["companies"] + 1
        assert after["users"] == before["users"] + 1
        empty_all_tables(engine)
    else:
        assert response.status_code in {409, 422}, response.text
        assert_problem(response, response.status_code, None)
        assert after == before
