"""Asking for a company export through the API and building it, as the worker would."""

from __future__ import annotations

import io
import uuid
import zipfile
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from coterie.company_export.builder import build_export
from coterie.models import CompanyExport
from tests.fixtures.builders import Member

EXPORTS = "/api/v1/company-exports"


def request_export(client: TestClient, admin: Member) -> dict[str, Any]:
    response = client.post(EXPORTS, headers=admin.headers)
    assert response.status_code == 202, response.text
    assert response.headers["Location"] == f"{EXPORTS}/{response.json()['id']}"
    body: dict[str, Any] = response.json()
    return body


def pending_export(app: FastAPI, admin: Member) -> str:
    """An export asked for by `admin` that no worker has picked up yet (the row `POST` writes,
    without its wake-up): what a busy queue looks like."""
    with app.state.session_factory() as session:
        row = CompanyExport(
            company_id=uuid.UUID(admin.company_id),
            requested_by_user_id=uuid.UUID(admin.user_id),
            status="queued",
            attempt=0,
            steps_done=0,
            steps_total=0,
            counts={},
        )
        session.add(row)
        session.commit()
        return str(row.id)


def build(app: FastAPI, export_id: str) -> None:
    """Run the worker's task for the export (what `exports.build` does)."""
    build_export(app.state.settings, app.state.session_factory, uuid.UUID(export_id))


def exported(client: TestClient, app: FastAPI, admin: Member) -> tuple[dict[str, Any], bytes]:
    """Ask for an export as `admin` and download it: (its resource, the zip). The tests' queue
    runs jobs at commit, so `exports.build` (the worker's task) ran before POST answered."""
    created = request_export(client, admin)
    assert created["status"] == "done", created
    assert created["progress"] == 100
    resource = client.get(f"{EXPORTS}/{created['id']}", headers=admin.headers)
    assert resource.status_code == 200, resource.text
    body: dict[str, Any] = resource.json()
    assert body["status"] == "done", body
    download = client.get(body["download_url"], headers=admin.headers)
    assert download.status_code == 200, download.text
    assert download.headers["content-type"] == "application/zip"
    return body, download.content


def members(zip_bytes: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}
