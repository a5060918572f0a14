"""Row-level security on `attachments` (PostgreSQL, migration 0021): with the app's role, a raw
query that forgets the company filter sees only the files of records the company has a grant on
(or its own uploads), and none without a company; the guard refuses an unguarded read."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from coterie.authz.guard import UnguardedReadError
from coterie.models.attachment import Attachment
from tests.fixtures.activity import make_deal
from tests.fixtures.attachments import uploaded
from tests.fixtures.smtp import Inbox


def _ids(engine: Engine, company_id: str | None) -> set[str]:
    with engine.connect() as connection:
        if company_id is not None:
            connection.execute(
                text("SELECT set_config('app.company_id', :id, true)"), {"id": company_id}
            )
        found = {
            str(r).replace("-", "") for r in connection.scalars(text("SELECT id FROM attachments"))
        }
        connection.rollback()
    return found


def test_a_query_that_forgets_the_company_sees_only_that_companys_files(
    client: TestClient, inbox: Inbox, engine: Engine
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("row-level security is a PostgreSQL feature; SQLite relies on the gate")
    deal = make_deal(client, inbox)
    made = uploaded(client, deal.acme, deal.record_id, "plan.txt", b"plan\n")
    file_id = made["id"].replace("-", "")
    assert _ids(engine, None) == set()
    assert _ids(engine, deal.acme.company_id) == {file_id}
    assert _ids(engine, deal.globex.company_id) == {file_id}
    assert _ids(engine, deal.initech.company_id) == set()


def test_the_guard_refuses_a_read_of_attachments_outside_the_gate(
    client: TestClient, engine: Engine
) -> None:
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    session: Session = factory()
    try:
        with pytest.raises(UnguardedReadError, match="attachments"):
            session.scalars(select(Attachment)).all()
    finally:
        session.close()
