"""The database statement decides a versioned write, not Python: two sessions interleaved by
hand, on SQLite and PostgreSQL. Session A reads a row, session B changes it and commits, then
A writes with the version it read, which its own copy of the row still agrees with. The
statement refuses A; a Python comparison alone would have let it through."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from coterie.kit import conditional
from coterie.kit.problems import Problem
from coterie.models import Partnership
from coterie.models.pipeline import RegistrationSettings
from tests.fixtures.builders import make_company, make_partnership
from tests.fixtures.versions import at_version


@pytest.fixture
def sessions(app: FastAPI, client: TestClient) -> Iterator[tuple[Session, Session]]:
    """Two sessions of the app's own factory (on PostgreSQL: the app's role, RLS applies)."""
    first, second = app.state.session_factory(), app.state.session_factory()
    yield first, second
    for session in (first, second):
        session.rollback()
        session.close()


def _settings(client: TestClient) -> uuid.UUID:
    """A company whose registration settings are at version 1."""
    admin = make_company(client, "Vendor")
    saved = client.put(
        "/api/v1/registration-settings",
        json={"expiry_days": 30, "renewal_days": 30, "max_renewals": 1},
        headers=at_version(admin, 0),
    )
    assert saved.status_code == 200, saved.text
    return uuid.UUID(admin.company_id)


def _answered(sessions: tuple[Session, Session]) -> None:
    """End both read transactions, as a request that read and answered does; each keeps its
    copy of the rows (`expire_on_commit=False`). A SQLite reader's snapshot must end before it
    writes, and the app's writes begin with the write lock (BEGIN IMMEDIATE) anyway."""
    for session in sessions:
        session.commit()


def _read_by_both(
    sessions: tuple[Session, Session], company_id: uuid.UUID
) -> tuple[RegistrationSettings, RegistrationSettings]:
    """The settings row as each session reads it now (both at version 1)."""
    rows = [session.get(RegistrationSettings, company_id) for session in sessions]
    assert [row.version if row is not None else None for row in rows] == [1, 1]
    _answered(sessions)
    first, second = rows
    assert first is not None
    assert second is not None
    return first, second


def test_the_update_refuses_a_version_that_python_still_believes(
    client: TestClient, sessions: tuple[Session, Session]
) -> None:
    a, b = sessions
    company_id = _settings(client)
    read_by_a, read_by_b = _read_by_both(sessions, company_id)
    conditional.claim_version(b, read_by_b, 1, "registration settings")
    read_by_b.expiry_days = 60
    b.commit()

    assert read_by_a.version == 1  # A's copy agrees with its If-Match: only SQL knows better
    with pytest.raises(Problem) as raised:
        conditional.claim_version(a, read_by_a, 1, "registration settings")
    assert raised.value.status == 412
    assert raised.value.slug == "version-mismatch"
    assert raised.value.extra["current_version"] == 2
    a.rollback()
    stored = a.get(RegistrationSettings, company_id, populate_existing=True)
    assert stored is not None
    assert (stored.version, stored.expiry_days) == (2, 60)


def test_any_orm_update_of_a_versioned_row_is_conditional_too(
    client: TestClient, sessions: tuple[Session, Session]
) -> None:
    a, b = sessions
    company_id = _settings(client)
    read_by_a, read_by_b = _read_by_both(sessions, company_id)
    conditional.claim_version(b, read_by_b, 1, "registration settings")
    b.commit()

    read_by_a.max_renewals = 9  # a write that forgot to claim: the mapper's version check
    with pytest.raises(StaleDataError):
        a.flush()
    a.rollback()
    stored = a.get(RegistrationSettings, company_id, populate_existing=True)
    assert stored is not None
    assert stored.max_renewals == 1


def test_the_first_insert_of_a_singleton_wins_and_the_second_is_412(
    client: TestClient, sessions: tuple[Session, Session]
) -> None:
    a, b = sessions
    company_id = uuid.UUID(make_company(client, "Vendor").company_id)
    assert a.get(RegistrationSettings, company_id) is None  # both saw none: If-Match 0
    assert b.get(RegistrationSettings, company_id) is None
    _answered(sessions)
    won = conditional.create_once(
        b, RegistrationSettings(company_id=company_id, expiry_days=10, version=1), "settings"
    )
    assert won.version == 1
    b.commit()

    with pytest.raises(Problem) as raised:
        conditional.create_once(
            a, RegistrationSettings(company_id=company_id, expiry_days=99, version=1), "settings"
        )
    assert raised.value.status == 412
    assert raised.value.extra["current_version"] == 1
    stored = a.get(RegistrationSettings, company_id)  # A's transaction is still usable
    assert stored is not None
    assert stored.expiry_days == 10


def test_a_state_transition_happens_once(
    client: TestClient, sessions: tuple[Session, Session]
) -> None:
    a, b = sessions
    acme, globex = make_company(client, "Acme"), make_company(client, "Globex")
    partnership_id = uuid.UUID(make_partnership(client, acme, globex))
    seen_by_a = a.get(Partnership, partnership_id)
    seen_by_b = b.get(Partnership, partnership_id)
    assert seen_by_a is not None
    assert seen_by_b is not None
    assert seen_by_a.status == seen_by_b.status == "active"
    _answered(sessions)

    assert conditional.claim_status(b, seen_by_b, ["active"], {"status": "revoked"})
    b.commit()

    assert not conditional.claim_status(a, seen_by_a, ["active"], {"status": "revoked"})
    assert seen_by_a.status == "active"  # A's copy is untouched by a refused transition
    assert conditional.current_status(a, seen_by_a) == "revoked"


def test_increments_made_as_a_consequence_are_never_lost(
    client: TestClient, sessions: tuple[Session, Session]
) -> None:
    a, b = sessions
    company_id = _settings(client)
    read_by_a, read_by_b = _read_by_both(sessions, company_id)
    assert conditional.bump_version(b, read_by_b) == 2
    b.commit()

    assert conditional.bump_version(a, read_by_a) == 3  # counted from the row, not the copy
    assert read_by_a.version == 3
    a.commit()
