"""The company export API: admins only, one at a time, a signed link that expires, the
clean-up of expired files, and a build that is idempotent and survives a crash."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from coterie.company_export import service, storage
from coterie.db import utcnow
from coterie.models import CompanyExport, User
from coterie.worker import tasks
from tests.company_export.helpers import (
    EXPORTS,
    build,
    exported,
    pending_export,
    request_export,
)
from tests.fixtures.builders import make_colleague, make_company
from tests.fixtures.smtp import Inbox

PROBLEM = "application/problem+json"


def _set(app: FastAPI, model: type, row_id: str, **values: object) -> None:
    with app.state.session_factory() as session:
        session.execute(update(model).where(model.id == uuid.UUID(row_id)).values(**values))  # type: ignore[attr-defined]
        session.commit()


def _file(app: FastAPI, resource: dict[str, object]) -> Path:
    return storage.absolute(
        app.state.settings,
        storage.relative_path(
            uuid.UUID(str(_company(app, resource))), uuid.UUID(str(resource["id"]))
        ),
    )


def _company(app: FastAPI, resource: dict[str, object]) -> uuid.UUID:
    with app.state.session_factory() as session:
        row = session.get(CompanyExport, uuid.UUID(str(resource["id"])))
        assert row is not None
        return row.company_id


def test_only_a_company_admin_exports_and_sees_the_company_exports(
    client: TestClient, app: FastAPI, inbox: Inbox
) -> None:
    acme = make_company(client, "Acme")
    member = make_colleague(client, acme, "manager", inbox=inbox)
    other = make_company(client, "Globex")
    resource, _ = exported(client, app, acme)

    refused = client.post(EXPORTS, headers=member.headers)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == PROBLEM
    assert "Only a company admin" in refused.json()["detail"]
    assert client.get(EXPORTS, headers=member.headers).status_code == 403
    assert client.get(f"{EXPORTS}/{resource['id']}", headers=member.headers).status_code == 403
    assert client.get(resource["download_url"], headers=member.headers).status_code == 403

    # another company's admin: it does not exist for them
    assert client.get(f"{EXPORTS}/{resource['id']}", headers=other.headers).status_code == 404
    assert client.get(resource["download_url"], headers=other.headers).status_code == 404
    assert client.get(EXPORTS, headers=other.headers).json()["items"] == []
    # no one without a bearer token
    assert client.get(resource["download_url"]).status_code == 401


def test_one_export_at_a_time_per_company_listed_newest_first(
    client: TestClient, app: FastAPI
) -> None:
    acme = make_company(client, "Acme")
    first = client.get(f"{EXPORTS}/{pending_export(app, acme)}", headers=acme.headers).json()
    assert first["status"] == "queued"
    assert first["progress"] == 0
    assert first["download_url"] is None

    second = client.post(EXPORTS, headers=acme.headers)
    assert second.status_code == 409
    assert second.headers["content-type"] == PROBLEM
    assert second.json()["type"] == "/problems/export-in-progress"
    assert second.json()["export_id"] == first["id"]

    build(app, first["id"])
    third = request_export(client, acme)
    listed = client.get(EXPORTS, headers=acme.headers).json()
    assert [item["id"] for item in listed["items"]] == [third["id"], first["id"]]
    assert [item["status"] for item in listed["items"]] == ["done", "done"]
    page = client.get(EXPORTS, params={"limit": 1}, headers=acme.headers).json()
    assert [item["id"] for item in page["items"]] == [third["id"]]
    rest = client.get(EXPORTS, params={"cursor": page["next_cursor"]}, headers=acme.headers)
    assert [item["id"] for item in rest.json()["items"]] == [first["id"]]


def test_the_link_expires_and_the_clean_up_deletes_the_file(
    client: TestClient, app: FastAPI
) -> None:
    acme = make_company(client, "Acme")
    resource, zip_bytes = exported(client, app, acme)
    path = _file(app, resource)
    assert path.read_bytes() == zip_bytes

    bad_token = client.get(
        f"{EXPORTS}/{resource['id']}/download", params={"token": "forged"}, headers=acme.headers
    )
    assert bad_token.status_code == 400
    assert bad_token.headers["content-type"] == PROBLEM
    not_an_id = client.get(f"{EXPORTS}/not-an-id", headers=acme.headers)
    assert not_an_id.status_code == 422
    assert not_an_id.json()["errors"][0]["path"] == "path.export_id"

    ttl = timedelta(hours=app.state.settings.export_ttl_hours)
    with time_machine.travel(utcnow() + ttl + timedelta(minutes=1), tick=False):
        gone = client.get(resource["download_url"], headers=acme.headers)
        assert gone.status_code == 410
        assert gone.headers["content-type"] == PROBLEM
        assert gone.json()["type"] == "/problems/export-expired"
        assert "Ask for a new one" in gone.json()["detail"]
        assert path.exists()  # until the clean-up runs

        cleanup, schedule_of = tasks.PERIODIC["exports.cleanup"]  # as the worker runs it
        assert schedule_of(app.state.settings) == "15 * * * *"
        cleanup(app.state.jobs)
        assert not path.exists()
        assert service.cleanup_expired(app.state.settings, app.state.session_factory) == 0
        after = client.get(f"{EXPORTS}/{resource['id']}", headers=acme.headers).json()
        assert after["status"] == "expired"
        assert after["download_url"] is None
        assert client.get(resource["download_url"], headers=acme.headers).status_code == 410
    with time_machine.travel(utcnow() + ttl + timedelta(days=2), tick=False):
        late = client.get(resource["download_url"], headers=acme.headers)
        assert late.status_code == 410  # the link itself too old: still "expired", not "invalid"
        assert late.json()["type"] == "/problems/export-expired"


def test_a_rerun_of_a_finished_export_does_nothing_and_a_crashed_one_restarts(
    client: TestClient, app: FastAPI, inbox: Inbox
) -> None:
    acme = make_company(client, "Acme")
    resource, _ = exported(client, app, acme)
    inbox.wait_for(acme.email)
    path = _file(app, resource)
    before = path.stat().st_mtime_ns

    build(app, resource["id"])  # a duplicate wake-up
    assert path.stat().st_mtime_ns == before
    again = client.get(f"{EXPORTS}/{resource['id']}", headers=acme.headers).json()
    # the same export (its link is signed anew at each read: compare all but the signature)
    assert {**again, "download_url": None} == {**resource, "download_url": None}
    assert len(inbox.to(acme.email)) == 1

    crashed = pending_export(app, acme)  # a build claimed it, wrote some, and died:
    _set(app, CompanyExport, crashed, status="running", attempt=1, steps_done=3)
    stale = storage.partial_path(
        app.state.settings, uuid.UUID(acme.company_id), uuid.UUID(crashed), 1
    )
    stale.write_bytes(b"half an export")
    build(app, crashed)
    done = client.get(f"{EXPORTS}/{crashed}", headers=acme.headers).json()
    assert done["status"] == "done"
    assert done["progress"] == 100
    service.cleanup_expired(app.state.settings, app.state.session_factory)
    assert not stale.exists()  # the dead build's partial file
    assert _file(app, done).exists()


def test_an_export_whose_requester_is_no_longer_an_admin_fails_with_the_reason(
    client: TestClient, app: FastAPI
) -> None:
    acme = make_company(client, "Acme")
    export_id = pending_export(app, acme)
    _set(app, User, acme.user_id, role="member")
    build(app, export_id)
    _set(app, User, acme.user_id, role="admin")

    failed = client.get(f"{EXPORTS}/{export_id}", headers=acme.headers).json()
    assert failed["status"] == "failed"
    assert "no longer is one" in failed["error"]
    assert failed["download_url"] is None
    assert request_export(client, acme)["status"] == "done"  # a failed one does not block


def test_the_database_itself_refuses_a_second_unfinished_export_of_a_company(
    client: TestClient, app: FastAPI
) -> None:
    acme = make_company(client, "Acme")
    pending_export(app, acme)
    with app.state.session_factory() as session:
        session.add(
            CompanyExport(
                company_id=uuid.UUID(acme.company_id),
                status="running",
                attempt=1,
                steps_done=0,
                steps_total=0,
                counts={},
            )
        )
        with pytest.raises(IntegrityError):
            session.commit()


def test_the_sweeper_builds_an_export_whose_wake_up_or_worker_was_lost(
    client: TestClient, app: FastAPI, inbox: Inbox
) -> None:
    acme = make_company(client, "Acme")
    lost = pending_export(app, acme)  # queued, its wake-up never reached a worker
    tasks.exports_sweep(app.state.jobs)
    fresh = client.get(f"{EXPORTS}/{lost}", headers=acme.headers).json()
    assert fresh["status"] == "queued"  # a young one is left to its own wake-up

    _set(app, CompanyExport, lost, created_at=utcnow() - service.QUEUED_GRACE * 2)
    tasks.exports_sweep(app.state.jobs)  # the tests' immediate queue builds it at once

    assert client.get(f"{EXPORTS}/{lost}", headers=acme.headers).json()["status"] == "done"
    inbox.wait_for(acme.email)

    globex = make_company(client, "Globex")
    orphan = pending_export(app, globex)  # a worker claimed it long ago and died
    _set(
        app,
        CompanyExport,
        orphan,
        status="running",
        attempt=1,
        started_at=utcnow() - service.RUNNING_GRACE * 2,
    )
    tasks.exports_sweep(app.state.jobs)
    rebuilt = client.get(f"{EXPORTS}/{orphan}", headers=globex.headers).json()
    assert rebuilt["status"] == "done"


def test_every_download_is_in_the_company_audit_log(
    client: TestClient, app: FastAPI, inbox: Inbox
) -> None:
    acme = make_company(client, "Acme")
    resource, _ = exported(client, app, acme)  # requested, then downloaded once
    assert client.get(resource["download_url"], headers=acme.headers).status_code == 200

    events = client.get("/api/v1/audit-events", params={"limit": 50}, headers=acme.headers).json()[
        "items"
    ]
    actions = [e["action"] for e in events if e["subject_id"] == resource["id"]]
    assert actions.count("company.export_requested") == 1
    assert actions.count("company.export_downloaded") == 2
