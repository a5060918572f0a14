"""At most one move of a record on a workflow waits for approvals: the move claims the record's
state (If-Match), a unique index backs it, and a database that raced before the index existed
keeps its oldest pending move when it is upgraded."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from coterie import migrate
from coterie.db import make_engine, utcnow
from coterie.models import Company, Record
from coterie.models.workflow import WorkflowApproval, WorkflowDefinition, WorkflowMove
from tests.fixtures.builders import Member, make_company
from tests.fixtures.databases import KINDS, fresh_database
from tests.fixtures.pipeline import system_connection
from tests.fixtures.workflows import record, states, try_move, workflow

GATED = [{"from": "a", "to": to, "approvals": [{"company": "host"}]} for to in ("b", "c")]


def _gated(client: TestClient) -> tuple[Member, str, str]:
    acme = make_company(client, "Acme")
    wf = workflow(
        client,
        acme,
        kind="lead",
        name="Gate",
        stages=[{"key": k, "name": k.upper()} for k in "abc"],
        transitions=GATED,
    )
    lead = record(client, acme, "lead", "Lead")
    assert states(client, acme, "lead", lead)[wf["id"]]["stage"]["key"] == "a"  # the first stage
    return acme, lead, str(wf["id"])


def test_a_second_gated_request_is_412_on_the_old_version_and_409_on_the_new(
    client: TestClient,
) -> None:
    acme, lead, wf_id = _gated(client)
    read = states(client, acme, "lead", lead)[wf_id]["version"]
    first = try_move(client, acme, "lead", lead, wf_id, "b", version=read)
    assert first.status_code == 201, first.text
    assert first.json()["move"]["status"] == "pending"

    second = try_move(client, acme, "lead", lead, wf_id, "c", version=read)
    assert second.status_code == 412
    assert second.json()["current_version"] == read + 1
    again = try_move(client, acme, "lead", lead, wf_id, "c")
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/move-pending"
    history = client.get(
        f"/api/v1/leads/{lead}/workflows/{wf_id}/history",
        headers=acme.headers,
    ).json()
    assert [m["status"] for m in history] == ["pending", "done"]


def test_the_database_refuses_a_second_pending_move(client: TestClient, engine: Engine) -> None:
    _acme, lead, wf_id = _gated(client)
    row = {
        "record_id": uuid.UUID(lead),
        "workflow_id": uuid.UUID(wf_id),
        "to_stage": "b",
        "status": "pending",
    }
    with system_connection(engine) as connection:
        connection.execute(insert(WorkflowMove).values(id=uuid.uuid4(), **row))
    with pytest.raises(IntegrityError), system_connection(engine) as connection:
        connection.execute(insert(WorkflowMove).values(id=uuid.uuid4(), **row | {"to_stage": "c"}))
    with system_connection(engine) as connection:  # done moves are as many as happened
        for _ in range(2):
            connection.execute(
                insert(WorkflowMove).values(id=uuid.uuid4(), **row | {"status": "done"})
            )


@pytest.mark.parametrize("kind", KINDS)
def test_upgrading_keeps_the_oldest_pending_move_of_a_record_that_raced(
    kind: str, tmp_path: Path
) -> None:
    with fresh_database(kind, tmp_path, "raced.sqlite3") as url:
        migrate.upgrade(url, "0012")
        engine = make_engine(url)
        try:
            company_id, record_id, workflow_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
            moves = [uuid.uuid4() for _ in range(3)]
            now = utcnow()
            with engine.begin() as connection:
                connection.execute(
                    insert(Company).values(
                        id=company_id, name="Raced", name_key="raced", domain="raced.example"
                    )
                )
                connection.execute(
                    insert(Record).values(
                        id=record_id, kind="lead", title="Lead", owner_company_id=company_id
                    )
                )
                connection.execute(
                    insert(WorkflowDefinition).values(
                        id=workflow_id, company_id=company_id, kind="lead", name="Gate"
                    )
                )
                for position, move_id in enumerate(moves):  # three pending: the race's result
                    connection.execute(
                        insert(WorkflowMove).values(
                            id=move_id,
                            record_id=record_id,
                            workflow_id=workflow_id,
                            to_stage="b",
                            status="pending",
                            requested_at=now + timedelta(seconds=position),
                        )
                    )
                    connection.execute(
                        insert(WorkflowApproval).values(
                            id=uuid.uuid4(),
                            move_id=move_id,
                            record_id=record_id,
                            company_id=company_id,
                            role="manager",
                            status="pending",
                            position=0,
                        )
                    )

            migrate.upgrade(url)

            with engine.connect() as connection:
                kept = dict(connection.execute(select(WorkflowMove.id, WorkflowMove.status)).all())
                asked = dict(
                    connection.execute(
                        select(WorkflowApproval.move_id, WorkflowApproval.status)
                    ).all()
                )
            assert kept == {moves[0]: "pending", moves[1]: "canceled", moves[2]: "canceled"}
            assert asked == {moves[0]: "pending", moves[1]: "canceled", moves[2]: "canceled"}
        finally:
            engine.dispose()
