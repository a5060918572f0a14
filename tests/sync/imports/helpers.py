"""Helpers of the import tests: upload a file, map, check, run, through the API."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.fixtures.builders import Member

IMPORTS = "/api/v1/imports"


def upload(
    client: TestClient,
    who: Member,
    content: bytes,
    *,
    kind: str = "opportunity",
    filename: str = "deals.csv",
    status: int = 201,
) -> dict[str, Any]:
    response = client.post(
        IMPORTS,
        params={"kind": kind, "filename": filename},
        content=content,
        headers={**who.headers, "Content-Type": "text/csv"},
    )
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def targets_of(body: dict[str, Any]) -> list[str | None]:
    return [column["target"] for column in body["columns"]]


def start(
    client: TestClient, who: Member, import_id: str, what: str = "dry-run", status: int = 200
) -> dict[str, Any]:
    response = client.post(f"{IMPORTS}/{import_id}/{what}", headers=who.headers)
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def outcomes(body: dict[str, Any]) -> list[tuple[int, str]]:
    return [(r["row"], r["action"]) for r in body["results"]]


def records(client: TestClient, who: Member, plural: str = "opportunities") -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/{plural}", params={"limit": 200}, headers=who.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items
