"""Large imports run in the worker (`imports.run`), chunk by chunk with their progress; one whose
wake-up was lost, or whose worker died mid-way, is found by the sweeper and resumes where its
last committed chunk ended, with no row imported twice."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from coterie.config import Settings
from coterie.db import session_scope, utcnow
from coterie.models import SpreadsheetImport
from coterie.models.imports import ImportMode, ImportStatus
from coterie.sync.imports import runner
from coterie.worker.tasks import PERIODIC, TASKS
from tests.fixtures.builders import make_company
from tests.sync.imports.helpers import IMPORTS, outcomes, records, start, upload
from tests.web.conftest import Browser
from tests.web.test_network_pages import signed_in

ROWS = 120


def _file(rows: int = ROWS) -> bytes:
    lines = ["Title,Customer,Amount"] + [f"Deal {n},Customer {n},{n}00" for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def test_a_large_file_runs_in_the_background_with_its_progress(
    client: TestClient, settings: Settings
) -> None:
    assert TASKS[runner.RUN_TASK] is runner.run_task
    assert "imports.sweep" in PERIODIC
    settings.import_background_rows = 50
    acme = make_company(client, "Acme")
    body = upload(client, acme, _file())
    # jobs run at the commit in tests (jobs_immediate): the request returns once the job ran
    checked = start(client, acme, body["id"])
    assert (checked["status"], checked["progress"], checked["rows_done"]) == ("checked", 100, ROWS)
    assert outcomes(checked) == [(n + 2, "create") for n in range(ROWS)]
    assert records(client, acme) == []
    done = start(client, acme, body["id"], "run")
    assert done["counts"] == {"created": ROWS, "updated": 0, "unchanged": 0, "refused": 0}
    assert len(records(client, acme)) == ROWS
    audit = client.get(
        "/api/v1/audit-events", params={"action": "records.imported"}, headers=acme.headers
    )
    assert audit.status_code == 200, audit.text
    imported = audit.json()["items"]
    assert len(imported) == 1
    assert imported[0]["data"]["created"] == ROWS


def test_a_run_whose_worker_died_resumes_after_its_last_chunk(
    app: FastAPI, client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    body = upload(client, acme, _file())
    import_id = uuid.UUID(body["id"])
    factory = app.state.session_factory
    # the first chunk was committed, then the worker died (nothing else happened)
    with session_scope(factory) as session:
        row = session.get(SpreadsheetImport, import_id)
        assert row is not None
        row.mode = ImportMode.IMPORT.value
        row.status = ImportStatus.RUNNING.value
        row.attempt = 1
        row.started_at = utcnow() - runner.RUNNING_GRACE - timedelta(minutes=1)
        actor = runner.importer_actor(session, row)
        assert actor is not None
        runner.run_rows(session, actor, row, runner.CHUNK)
    browser = signed_in(new_browser, acme)
    page = browser.get(f"/imports/{import_id}/status")
    assert page.status_code == 200
    assert f"Importing… {runner.CHUNK} of {ROWS} rows" in page.text
    assert f'value="{runner.CHUNK * 100 // ROWS}"' in page.text
    assert len(records(client, acme)) == runner.CHUNK

    assert runner.stuck(factory, utcnow()) == [import_id]
    runner.run_in_background(factory, import_id)
    final = client.get(f"{IMPORTS}/{import_id}", headers=acme.headers).json()
    assert final["status"] == "done"
    assert [r["row"] for r in final["results"]] == [n + 2 for n in range(ROWS)]
    assert final["counts"]["created"] == ROWS
    titles = [r["title"] for r in records(client, acme)]
    assert sorted(titles) == sorted(f"Deal {n}" for n in range(ROWS))  # none twice
    assert runner.stuck(factory, utcnow()) == []


def test_a_lost_wake_up_is_swept_and_a_finished_run_is_left_alone(
    app: FastAPI, client: TestClient
) -> None:
    acme = make_company(client, "Acme")
    body = upload(client, acme, _file(10))
    import_id = uuid.UUID(body["id"])
    factory = app.state.session_factory
    session: Session
    with session_scope(factory) as session:
        row = session.get(SpreadsheetImport, import_id)
        assert row is not None
        row.status = ImportStatus.QUEUED.value
        row.started_at = utcnow() - runner.QUEUED_GRACE - timedelta(seconds=5)
    assert runner.stuck(factory, utcnow()) == [import_id]
    runner.run_in_background(factory, import_id)
    checked = client.get(f"{IMPORTS}/{import_id}", headers=acme.headers).json()
    assert checked["status"] == "checked"
    assert len(checked["results"]) == 10
    runner.run_in_background(factory, import_id)  # a duplicate wake-up does nothing
    assert client.get(f"{IMPORTS}/{import_id}", headers=acme.headers).json() == checked
