"""Migration 0019: an existing company without an opportunity workflow gets the standard
pipeline, unless its opportunities use stage names of its own (they would all become "Not
staged") or it has a workflow it turned off."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.orm import Session

import coterie.models  # noqa: F401  (registers every table)
from coterie import migrate
from coterie.db import make_engine, utcnow
from coterie.models import Company, Record, Space
from coterie.models.workflow import WorkflowDefinition
from coterie.network import companies
from coterie.network.schemas import CompanyIn
from tests.fixtures.databases import KINDS, fresh_database


@pytest.fixture(params=KINDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path, "standard.sqlite3") as url:
        yield url


def _company(session: Session, name: str, *stages: str | None) -> Company:
    company = companies.create_company(
        session, CompanyIn(name=name, domain=f"{name.lower()}.example")
    )
    for n, stage in enumerate(stages):
        now = utcnow()
        record = Record(
            kind="opportunity",
            title=f"{name} deal {n}",
            owner_company_id=company.id,
            created_at=now,
            updated_at=now,
        )
        session.add(record)
        session.flush()
        session.add(Space(record_id=record.id, company_id=company.id, stage=stage, custom={}))
    return company


def test_existing_companies_get_the_standard_pipeline_unless_they_have_their_own(
    database: str,
) -> None:
    config = migrate.alembic_config(database)
    command.upgrade(config, "0018")
    engine = make_engine(database)
    try:
        with Session(engine) as session:
            if engine.dialect.name == "postgresql":
                session.execute(text("SELECT set_config('app.rls_bypass', 'on', true)"))
            fresh = _company(session, "Fresh")
            standard = _company(session, "Standard", "propose", None)
            own_names = _company(session, "Ownnames", "Prospecting", "qualify")
            turned_off = _company(session, "Turnedoff")
            now = utcnow()
            session.add(
                WorkflowDefinition(
                    company_id=turned_off.id,
                    kind="opportunity",
                    name="Ours",
                    stages=[{"key": "a", "name": "A", "category": "open"}],
                    transitions=[],
                    active=False,
                    version=1,
                    created_at=now,
                    updated_at=now,
                )
            )
            ids = {c.id: c.name for c in (fresh, standard, own_names, turned_off)}
            session.commit()
        command.upgrade(config, "head")
        with Session(engine) as session:
            rows = session.query(WorkflowDefinition).all()
            given = {ids[r.company_id]: r for r in rows if r.name == "Standard pipeline"}
            assert set(given) == {"Fresh", "Standard"}
            for definition in given.values():
                assert (definition.kind, definition.program_id) == ("opportunity", None)
                assert definition.active
                assert [s["key"] for s in definition.stages] == [
                    "qualify",
                    "develop",
                    "propose",
                    "negotiate",
                    "won",
                    "lost",
                ]
            assert [r.name for r in rows if ids[r.company_id] == "Turnedoff"] == ["Ours"]
    finally:
        engine.dispose()
