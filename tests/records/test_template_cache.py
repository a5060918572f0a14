"""The process-wide cache of parsed templates: a saved template shows at once, a template is
never served from another database (bench data sets and tests repeat company ids), and a
transaction's own uncommitted writes never reach other readers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session

from coterie.db import Base
from coterie.fields import templates
from coterie.models import Company, Template
from tests.fixtures.builders import make_company
from tests.fixtures.records import OPPS, create_record, fill_space, put_template, share_record


def _partner_space(client: TestClient, headers: dict[str, str], record_id: str) -> dict[str, Any]:
    response = client.get(f"{OPPS}/{record_id}", headers=headers)
    assert response.status_code == 200, response.text
    spaces = [s for s in response.json()["spaces"] if not s["is_mine"]]
    assert len(spaces) == 1
    space: dict[str, Any] = spaces[0]
    return space


def test_a_saved_template_shows_at_once_to_partners_and_to_its_company(
    client: TestClient, app: FastAPI
) -> None:
    owner = make_company(client, "Cache Owner")
    partner = make_company(client, "Cache Partner")
    margin = {"key": "margin", "type": "number", "label": "Margin", "visibility": "participants"}
    put_template(client, owner, margin)
    record_id = create_record(client, owner, "Cached deal")
    fill_space(client, owner, record_id, margin=12)
    share_record(client, owner, record_id, partner)

    seen = _partner_space(client, partner.headers, record_id)
    assert seen["labels"]["margin"] == "Margin"
    assert seen["fields"]["margin"] == 12
    assert len(templates.parsed_cache_of(app.state.engine)) > 0  # the cache is in use

    put_template(client, owner, {**margin, "label": "Gross margin"})
    assert _partner_space(client, partner.headers, record_id)["labels"]["margin"] == "Gross margin"
    listed = client.get(OPPS, headers=partner.headers).json()["items"][0]["spaces"]
    assert [s["labels"]["margin"] for s in listed if not s["is_mine"]] == ["Gross margin"]

    put_template(client, owner, {**margin, "label": "Gross margin", "visibility": "private"})
    assert "margin" not in _partner_space(client, partner.headers, record_id)["fields"]
    own = client.get(f"{OPPS}/{record_id}", headers=owner.headers).json()["spaces"][0]
    assert own["labels"]["margin"] == "Gross margin"
    assert own["fields"]["margin"] == 12


def _database(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    return engine


def _store(engine: Engine, company_id: uuid.UUID, label: str, at: datetime) -> None:
    with Session(engine) as session:
        session.add(
            Company(id=company_id, name="Same id", name_key="same id", domain="same.example")
        )
        session.flush()
        session.add(
            Template(
                company_id=company_id,
                kind="opportunity",
                definition={
                    "fields": [{"key": "margin", "type": "number", "label": label}],
                    "retired": [],
                },
                version=1,
                updated_at=at,
            )
        )
        session.commit()


def _label(engine: Engine, company_id: uuid.UUID) -> str | None:
    with Session(engine) as session:
        return templates.load(session, company_id, "opportunity").by_key["margin"].label


def test_two_databases_with_the_same_company_id_never_share_a_template(tmp_path: Path) -> None:
    company_id = uuid.uuid4()
    at = datetime(2026, 1, 1, tzinfo=UTC)
    first, second = _database(tmp_path / "first.sqlite3"), _database(tmp_path / "second.sqlite3")
    try:
        _store(first, company_id, "First's label", at)
        _store(second, company_id, "Second's label", at)  # same company, kind, version, time
        assert _label(first, company_id) == "First's label"
        assert _label(second, company_id) == "Second's label"
        assert _label(first, company_id) == "First's label"  # now from the cache
        assert len(templates.parsed_cache_of(first)) == 1
    finally:
        first.dispose()
        second.dispose()


def test_an_uncommitted_template_is_not_given_to_other_transactions(tmp_path: Path) -> None:
    company_id = uuid.uuid4()
    engine = _database(tmp_path / "db.sqlite3")
    try:
        _store(engine, company_id, "Committed", datetime(2026, 1, 1, tzinfo=UTC))
        with Session(engine) as writer:
            row = writer.get(Template, (company_id, "opportunity"))
            assert row is not None
            # a write that keeps the key (no writer does; this proves the guard)
            row.definition = {"fields": [{"key": "margin", "type": "number", "label": "Draft"}]}
            writer.flush()
            assert templates.load(writer, company_id, "opportunity").by_key["margin"].label == (
                "Draft"
            )
            writer.rollback()
        assert _label(engine, company_id) == "Committed"
    finally:
        engine.dispose()
