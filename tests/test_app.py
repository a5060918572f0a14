"""What every route shares: problem+json errors, body limits, OpenAPI, docs and the health check."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from coterie.config import Settings
from tests.fixtures.builders import PASSWORD, make_company
from tests.kit.assertions import assert_invalid, assert_problem, row_counts

API_ROUTES = {
    "/api/v1/signup": {"post"},
    "/api/v1/auth/token": {"post"},
    "/api/v1/auth/logout": {"post"},
    "/api/v1/auth/password-reset": {"post"},
    "/api/v1/auth/password-reset/confirm": {"post"},
    "/api/v1/me": {"get", "patch"},
    "/api/v1/me/password": {"post"},
    "/api/v1/me/preferences": {"get", "patch"},
    "/api/v1/companies": {"get"},
    "/api/v1/companies/mine": {"get", "patch"},
    "/api/v1/companies/{company_id}": {"get"},
    "/api/v1/partnerships": {"get", "post"},
    "/api/v1/partnerships/{partnership_id}": {"get"},
    "/api/v1/partnerships/{partnership_id}/accept": {"post"},
    "/api/v1/partnerships/{partnership_id}/decline": {"post"},
    "/api/v1/partnerships/{partnership_id}/revoke": {"post"},
    "/api/v1/users": {"get"},
    "/api/v1/users/{user_id}": {"get", "patch"},
    "/api/v1/invitations": {"get", "post"},
    "/api/v1/invitations/{invitation_id}": {"delete"},
    "/api/v1/invitations/preview": {"get"},
    "/api/v1/invitations/accept": {"post"},
    "/api/v1/tokens": {"get", "post"},
    "/api/v1/tokens/{token_id}": {"delete"},
}


def signup_json(description: str = "") -> dict[str, object]:
    return {
        "company": {"name": "Acme", "domain": "acme.example", "description": description},
        "user": {"name": "Ada", "email": "ada@acme.example", "password": PASSWORD},
    }


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "ok"


def test_an_unknown_api_route_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/api/v1/no-such-thing")

    body = assert_problem(response, 404, "not-found")
    assert body["instance"] == "/api/v1/no-such-thing"


def test_a_wrong_method_is_a_405_problem_naming_the_allowed_ones(client: TestClient) -> None:
    response = client.delete("/api/v1/signup")

    assert_problem(response, 405, "method-not-allowed")
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize(
    "raw", [b"{", b'{"company": }', b"\xff\xfe", b'{"company": {"name": "A"}, }']
)
def test_malformed_json_is_a_400_problem_and_writes_nothing(
    client: TestClient, engine: Engine, raw: bytes
) -> None:
    before = row_counts(engine)

    response = client.post(
        "/api/v1/signup", content=raw, headers={"content-type": "application/json"}
    )

    assert_problem(response, 400, "malformed-json")
    assert row_counts(engine) == before


DEEP_JSON = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize(
    "raw",
    [
        DEEP_JSON,
        b'{"company": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_000 + b"}",
        b'{"company": {"name": "Acme \xff"}}',  # a byte that is not UTF-8
        b'{"company": {"name": "Acme \xc3"}}',  # a UTF-8 sequence cut short
        b"\xef\xbb\xbf" + json.dumps(signup_json()).encode()[:-1],  # BOM, then a cut document
    ],
    ids=["nested-array", "nested-object", "not-utf-8", "truncated-utf-8", "bom"],
)
def test_deep_or_undecodable_json_is_the_malformed_json_problem(
    client: TestClient, engine: Engine, raw: bytes
) -> None:
    before = row_counts(engine)

    response = client.post(
        "/api/v1/signup", content=raw, headers={"content-type": "application/json"}
    )

    body = assert_problem(response, 400, "malformed-json")
    assert body["title"] == "Malformed JSON"
    assert row_counts(engine) == before


def test_deep_json_is_malformed_on_an_authenticated_route_too(client: TestClient) -> None:
    admin = make_company(client)

    response = client.patch(
        "/api/v1/me/preferences",
        content=DEEP_JSON,
        headers={**admin.headers, "content-type": "application/json"},
    )

    assert_problem(response, 400, "malformed-json")


@pytest.mark.parametrize(
    ("content_type", "raw"),
    [
        ("text/plain", json.dumps(signup_json()).encode()),
        ("application/x-www-form-urlencoded", b"company=Acme&user=Ada"),
        ("multipart/form-data; boundary=xyz", b"--xyz\r\n\r\nAcme\r\n--xyz--\r\n"),
        ("application/xml", b"<signup/>"),
        ("application/jsonp", json.dumps(signup_json()).encode()),
        (None, json.dumps(signup_json()).encode()),
    ],
    ids=["text", "form", "multipart", "xml", "jsonp", "undeclared"],
)
def test_a_body_that_is_not_json_is_a_415_naming_the_accepted_type(
    client: TestClient, engine: Engine, content_type: str | None, raw: bytes
) -> None:
    before = row_counts(engine)
    headers = {"content-type": content_type} if content_type else {}

    response = client.post("/api/v1/signup", content=raw, headers=headers)

    body = assert_problem(response, 415, "unsupported-media-type")
    assert "application/json" in body["detail"]
    assert body["accepted"] == ["application/json"]
    assert response.headers["accept-post"] == "application/json"
    assert row_counts(engine) == before


def test_a_415_on_patch_names_the_accepted_type_in_accept_patch(client: TestClient) -> None:
    admin = make_company(client)

    response = client.patch(
        "/api/v1/me",
        content=b"name=Ada",
        headers={**admin.headers, "content-type": "application/x-www-form-urlencoded"},
    )

    assert_problem(response, 415, "unsupported-media-type")
    assert response.headers["accept-patch"] == "application/json"


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "application/merge-patch+json",
    ],
    ids=["json", "charset", "upper-case", "suffix"],
)
def test_json_bodies_are_accepted_with_or_without_parameters(
    client: TestClient, content_type: str
) -> None:
    response = client.post(
        "/api/v1/signup",
        content=json.dumps(signup_json()).encode(),
        headers={"content-type": content_type},
    )

    assert response.status_code == 201, response.text


def test_a_route_without_a_body_ignores_the_content_type(client: TestClient) -> None:
    admin = make_company(client)

    response = client.post(
        "/api/v1/auth/logout", content=b"", headers={**admin.headers, "content-type": "text/plain"}
    )

    assert response.status_code == 204, response.text


@pytest.mark.parametrize("body", [[], "signup", 42, None])
def test_a_json_body_of_the_wrong_shape_is_a_422_on_body(client: TestClient, body: object) -> None:
    response = client.post(
        "/api/v1/signup", content=json.dumps(body), headers={"content-type": "application/json"}
    )

    assert_invalid(response, "body")


def test_a_value_the_database_refuses_is_a_422_not_a_500(client: TestClient) -> None:
    admin = make_company(client)

    # PostgreSQL refuses NUL in text; SQLite compares it. Neither may answer 500.
    response = client.get(
        "/api/v1/audit-events", params={"action": "company.updated\x00"}, headers=admin.headers
    )

    if response.status_code == 200:
        assert response.json()["items"] == []
    else:
        assert_problem(response, 422, None)


def padded_signup(total_bytes: int) -> bytes:
    """A signup body of exactly `total_bytes` bytes (its description pads it)."""
    empty = json.dumps(signup_json()).encode()
    document = json.dumps(signup_json("d" * (total_bytes - len(empty)))).encode()
    assert len(document) == total_bytes
    return document


def test_a_body_over_the_limit_is_a_413_problem_and_writes_nothing(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    before = row_counts(engine)

    response = client.post(
        "/api/v1/signup",
        content=padded_signup(settings.max_request_bytes + 1),
        headers={"content-type": "application/json"},
    )

    body = assert_problem(response, 413, "payload-too-large")
    assert str(settings.max_request_bytes) in body["detail"]
    assert row_counts(engine) == before


def test_a_body_at_the_limit_is_read(client: TestClient, settings: Settings) -> None:
    response = client.post(
        "/api/v1/signup",
        content=padded_signup(settings.max_request_bytes),
        headers={"content-type": "application/json"},
    )

    # read and validated: the description is too long, but the size was acceptable
    assert_invalid(response, "body.company.description")


def test_a_streamed_body_over_the_limit_is_a_413_too(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    admin = make_company(client)
    before = row_counts(engine)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is enforced while reading
        yield b'{"name": "'
        for _ in range(settings.max_request_bytes // 65536 + 1):
            yield b"x" * 65536
        yield b'"}'

    response = client.post(
        "/api/v1/tokens",
        content=chunks(),
        headers={**admin.headers, "content-type": "application/json"},
    )

    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "payload-too-large")
    assert row_counts(engine) == before


def test_the_openapi_document_lists_the_stable_routes(client: TestClient) -> None:
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    document = response.json()
    assert document["info"]["title"] == "Coterie API"
    paths = document["paths"]
    for path, methods in API_ROUTES.items():
        assert path in paths, f"{path} missing from OpenAPI"
        assert methods <= set(paths[path]), f"{path}: {methods - set(paths[path])} missing"


def test_every_documented_api_route_answers_without_a_token_as_documented(
    client: TestClient,
) -> None:
    """Each route either needs a bearer (401 problem) or is one of the public ones."""
    public = {
        ("post", "/api/v1/signup"),
        ("post", "/api/v1/auth/token"),
        ("post", "/api/v1/auth/password-reset"),
        ("post", "/api/v1/auth/password-reset/confirm"),
        ("get", "/api/v1/invitations/preview"),
        ("post", "/api/v1/invitations/accept"),
    }
    zero = "00000000-0000-0000-0000-000000000000"
    for path, methods in API_ROUTES.items():
        concrete = path.replace("{company_id}", zero).replace("{partnership_id}", zero)
        concrete = concrete.replace("{user_id}", zero).replace("{invitation_id}", zero)
        concrete = concrete.replace("{token_id}", zero)
        for method in methods:
            response = client.request(method.upper(), concrete)
            if (method, path) in public:
                assert response.status_code in {400, 422}, (method, path, response.text)
            else:
                assert_problem(response, 401, "unauthenticated")


def test_the_api_docs_are_served_as_html(client: TestClient) -> None:
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "/api/v1/openapi.json" in response.text
