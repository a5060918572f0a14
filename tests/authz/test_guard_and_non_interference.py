"""The fail-closed guard, and non-interference: what company B does with its private data
changes no byte of what company A receives."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from coterie.authz.guard import UNSAFE, UnguardedReadError
from coterie.models import Participant, Record, RecordAccess, SearchEntry, Space
from tests.fixtures.builders import Member, make_company
from tests.fixtures.records import fill_space, put_template
from tests.fixtures.smtp import Inbox

OPPS = "/api/v1/opportunities"


@pytest.mark.parametrize("model", [Record, Participant, Space, RecordAccess, SearchEntry])
def test_a_select_that_bypasses_the_gate_raises(app: FastAPI, model: Any) -> None:
    with app.state.session_factory() as session:
        with pytest.raises(UnguardedReadError):
            session.scalars(select(model)).all()
        with pytest.raises(UnguardedReadError):
            session.scalar(select(func.count()).select_from(model))
        with pytest.raises(UnguardedReadError):
            session.execute(text(f"SELECT * FROM {model.__tablename__}"))  # noqa: S608


def test_a_join_or_subquery_through_a_protected_table_raises_too(app: FastAPI) -> None:
    with app.state.session_factory() as session:
        from coterie.models import Company

        hidden_join = select(Company.name).join(Record, Record.owner_company_id == Company.id)
        with pytest.raises(UnguardedReadError):
            session.execute(hidden_join)
        hidden_exists = select(Company.id).where(
            select(Space.record_id).where(Space.company_id == Company.id).exists()
        )
        with pytest.raises(UnguardedReadError):
            session.execute(hidden_exists)


def test_admin_tooling_reads_only_when_marked_unsafe(app: FastAPI) -> None:
    with app.state.session_factory() as session:
        count = session.scalar(select(func.count()).select_from(Record).execution_options(**UNSAFE))
        assert count is not None


def _everything_a_sees(client: TestClient, a: Member, record_id: str) -> list[bytes]:
    return [
        client.get(f"{OPPS}/{record_id}", headers=a.headers).content,
        client.get(OPPS, headers=a.headers).content,
        client.get(f"{OPPS}/count", headers=a.headers).content,
        client.get(f"{OPPS}/export", params={"format": "csv"}, headers=a.headers).content,
        client.get("/api/v1/search", params={"q": "orbit"}, headers=a.headers).content,
        client.get("/api/v1/search", params={"q": "zephyr"}, headers=a.headers).content,
        client.get(f"/opportunities/{record_id}", headers=a.headers).content,
    ]


def test_b_private_changes_change_no_byte_of_a_responses(client: TestClient, inbox: Inbox) -> None:
    a = make_company(client, "Acme")
    b = make_company(client, "Globex")
    template: dict[str, Any] = {
        "fields": [
            {"key": "amount", "visibility": "participants"},
            {"key": "stage", "visibility": "private"},
            {"key": "internal_notes", "type": "long_text", "visibility": "private"},
            {"key": "margin", "type": "number", "visibility": "private"},
        ]
    }
    for company in (a, b):
        put_template(client, company, *template["fields"])
    created = client.post(
        OPPS, json={"title": "Orbit deal", "fields": {"amount": 100}}, headers=a.headers
    )
    record_id = created.json()["id"]
    client.post(
        f"{OPPS}/{record_id}/participants", json={"company_id": b.company_id}, headers=a.headers
    )
    client.post(f"{OPPS}/{record_id}/participants/{b.company_id}/accept", headers=b.headers)
    fill_space(client, b, record_id, amount=5)

    before = _everything_a_sees(client, a, record_id)
    for fields in (
        {"stage": "Negotiate", "internal_notes": "zephyr canary", "margin": 42},
        {"stage": "Closed", "internal_notes": "zephyr again", "margin": -1},
        {"stage": None, "internal_notes": None, "margin": None},
    ):
        fill_space(client, b, record_id, **fields)
        assert _everything_a_sees(client, a, record_id) == before

    # the probe is not blind: a change B shares does show
    fill_space(client, b, record_id, amount=6)
    assert _everything_a_sees(client, a, record_id) != before
