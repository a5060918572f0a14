"""Row-level security on PostgreSQL (migration 0005, `coterie.authz.rls`), with the app connected
as a role that owns nothing, as in production: a raw query that forgets the company filter sees
only the rows of records that company may see, and nothing without a company; grant maintenance
across companies needs the system scope, which ends with its block; the gate's list query still
walks the grant index."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, delete, make_url, text
from sqlalchemy.orm import Session

from coterie.app import create_app
from coterie.authz import gate, rls
from coterie.authz.guard import UNSAFE
from coterie.authz.principal import Principal
from coterie.db import make_engine
from coterie.kit.problems import Problem
from coterie.models import RecordAccess
from coterie.records.service import LIST_ORDER
from tests.conftest import make_settings
from tests.fixtures.builders import Member, make_company

TABLES = ("records", "record_participants", "record_spaces", "record_access", "search_entries")
COLUMNS = {  # (record id, company id) of a row
    "records": "id, owner_company_id",
    "search_entries": "record_id, owner_company_id",  # NULL: the core's index rows
}


@pytest.fixture
def owner(database_url: str, engine: Engine) -> Iterator[Engine]:
    """The tables' owner (what migrations run as): PostgreSQL skips the policies for it."""
    if engine.dialect.name != "postgresql":
        pytest.skip("row-level security is a PostgreSQL feature; SQLite relies on the gate")
    owner_engine = make_engine(database_url)
    yield owner_engine
    owner_engine.dispose()


def _post(client: TestClient, member: Member, path: str, body: Any = None) -> dict[str, Any]:
    response = client.post(f"/api/v1{path}", json=body, headers=member.headers)
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result


def _opportunity(client: TestClient, member: Member, title: str) -> str:
    created = _post(
        client, member, "/opportunities", {"title": title, "fields": {"region": "emea"}}
    )
    return str(created["id"])


@dataclass
class Network:
    a: Member
    b: Member
    c: Member
    shared: str  # A's, B active
    private: str  # A's alone
    left: str  # A's, C joined and left
    b_private: str  # B's alone
    invited: str  # C's, A invited and not yet answered


def _network(client: TestClient) -> Network:
    a, b, c = (make_company(client, name) for name in ("Alpha", "Beta", "Gamma"))
    shared = _opportunity(client, a, "Shared")
    _post(client, a, f"/opportunities/{shared}/participants", {"company_id": b.company_id})
    _post(client, b, f"/opportunities/{shared}/participants/{b.company_id}/accept")
    private = _opportunity(client, a, "Private")
    left = _opportunity(client, a, "Left")
    _post(client, a, f"/opportunities/{left}/participants", {"company_id": c.company_id})
    _post(client, c, f"/opportunities/{left}/participants/{c.company_id}/accept")
    response = client.delete(
        f"/api/v1/opportunities/{left}/participants/{c.company_id}", headers=c.headers
    )
    assert response.status_code == 204, response.text
    b_private = _opportunity(client, b, "Beta's own")
    invited = _opportunity(client, c, "Gamma invites")
    _post(client, c, f"/opportunities/{invited}/participants", {"company_id": a.company_id})
    return Network(a, b, c, shared, private, left, b_private, invited)


def _rows(connection: Connection, table: str) -> set[tuple[str, str]]:
    """(record id, company id) of every row of `table` the connection sees."""
    columns = COLUMNS.get(table, "record_id, company_id")
    query = text(f"SELECT {columns} FROM {table}")  # noqa: S608 (our table names)
    return {(str(r), str(c)) for r, c in connection.execute(query)}


def _as_company(connection: Connection, company_id: str) -> None:
    connection.execute(text("SELECT set_config('app.company_id', :id, true)"), {"id": company_id})


def test_the_policies_are_on_the_shared_record_tables(owner: Engine) -> None:
    with owner.connect() as connection:
        enabled = set(
            connection.scalars(
                text("SELECT relname FROM pg_class WHERE relrowsecurity AND relname = ANY(:t)"),
                {"t": list(TABLES)},
            )
        )
        policies = set(connection.execute(text("SELECT tablename, policyname FROM pg_policies")))
    assert enabled == set(TABLES)
    for table in TABLES:
        for name in ("read", "insert", "update", "delete"):
            assert (table, f"coterie_{name}") in policies


def test_a_query_that_forgets_the_company_filter_sees_only_that_companys_records(
    client: TestClient, engine: Engine, owner: Engine
) -> None:
    net = _network(client)
    me = net.a.company_id
    listed = {
        item["id"]
        for item in client.get("/api/v1/opportunities", headers=net.a.headers).json()["items"]
    }
    inbox = client.get("/api/v1/record-invitations", headers=net.a.headers).json()
    assert listed == {net.shared, net.private, net.left}
    assert {item["record_id"] for item in inbox} == {net.invited}

    with owner.connect() as connection:  # the oracle: every row, filtered in Python
        everything = {table: _rows(connection, table) for table in TABLES}
    granted = {record for record, company in everything["record_access"] if company == me}
    mine = {record for record, company in everything["record_participants"] if company == me}
    expected = {
        "records": {row for row in everything["records"] if row[0] in granted | mine},
        "record_participants": {
            row for row in everything["record_participants"] if row[0] in granted or row[1] == me
        },
        "record_spaces": {
            row for row in everything["record_spaces"] if row[0] in granted or row[1] == me
        },
        "record_access": {row for row in everything["record_access"] if row[1] == me},
        "search_entries": {
            row for row in everything["search_entries"] if row[0] in granted or row[1] == me
        },
    }
    assert granted == listed
    assert {r for r, _ in expected["records"]} == listed | {net.invited}
    assert (net.invited, net.c.company_id) not in expected["record_participants"]  # C's own row
    assert (net.left, net.c.company_id) in expected["record_spaces"]  # C left; A's record
    assert (net.b_private, "None") in everything["search_entries"]  # B's title is indexed
    assert (net.b_private, "None") not in expected["search_entries"]

    with engine.connect() as connection:  # the app's role
        for table in TABLES:
            assert _rows(connection, table) == set(), f"{table} without a company"
        _as_company(connection, me)
        for table in TABLES:
            assert _rows(connection, table) == expected[table], table
        connection.rollback()
        for table in TABLES:  # the setting was transaction-local
            assert _rows(connection, table) == set(), f"{table} after the transaction"


def test_grant_maintenance_needs_the_system_scope_which_ends_with_its_block(
    client: TestClient, app: FastAPI, owner: Engine
) -> None:
    net = _network(client)
    with owner.connect() as connection:
        every_grant = len(_rows(connection, "record_access"))

    def grants(session: Session) -> int:
        query = text("SELECT count(*) FROM record_access")
        return int(session.execute(query, execution_options=UNSAFE).scalar_one())

    def bypass(session: Session) -> str | None:
        query = text("SELECT current_setting('app.rls_bypass', true)")
        return session.execute(query).scalar_one()

    session: Session
    with app.state.session_factory() as session:
        rls.bind(session, uuid.UUID(net.a.company_id))
        mine = grants(session)
        assert 0 < mine < every_grant
        not_mine = delete(RecordAccess).where(RecordAccess.company_id == net.b.company_id)
        assert session.execute(not_mine).rowcount == 0  # type: ignore[attr-defined]

        with rls.unsafe_system_scope(session):
            assert grants(session) == every_grant
            with rls.unsafe_system_scope(session):  # nested: the inner end keeps the outer on
                pass
            assert grants(session) == every_grant
        assert grants(session) == mine
        assert bypass(session) == "off"

        with pytest.raises(Problem), rls.unsafe_system_scope(session):
            raise Problem(409, "conflict", "Conflict", "maintenance refused half-way")
        assert grants(session) == mine
        session.rollback()
        assert bypass(session) in (None, "", "off")


def test_the_company_stays_bound_across_commits_savepoints_and_principals(
    client: TestClient, app: FastAPI, owner: Engine
) -> None:
    net = _network(client)
    alpha = Principal(uuid.UUID(net.a.company_id), uuid.UUID(net.a.user_id), hide_private=False)
    beta = Principal(uuid.UUID(net.b.company_id), uuid.UUID(net.b.user_id), hide_private=False)
    shared, private = uuid.UUID(net.shared), uuid.UUID(net.private)
    session: Session
    with app.state.session_factory() as session:
        assert gate.check(session, alpha, "opportunity", private).title == "Private"
        session.commit()  # "service writes, route commits, then reads again"
        assert gate.check(session, alpha, "opportunity", private).title == "Private"
        savepoint = session.begin_nested()
        assert gate.check(session, beta, "opportunity", shared).title == "Shared"
        savepoint.rollback()  # undoes the SET LOCAL made inside it
        assert gate.check(session, alpha, "opportunity", private).title == "Private"
        with pytest.raises(Problem):
            gate.check(session, beta, "opportunity", private)
        assert len(gate.participants(session, beta, "opportunity", [shared, private])) == 2


def test_a_company_that_left_accepts_again_and_finds_its_own_space(
    client: TestClient, owner: Engine
) -> None:
    """Its space stayed while it had no grant: the read policy lets a company see its own
    spaces, or accepting again would try to create a second one."""
    net = _network(client)
    c = net.c
    _post(client, net.a, f"/opportunities/{net.left}/participants", {"company_id": c.company_id})
    again = _post(client, c, f"/opportunities/{net.left}/participants/{c.company_id}/accept")
    assert [p["status"] for p in again["participants"] if p["company_id"] == c.company_id] == [
        "active"
    ]
    assert len([space for space in again["spaces"] if space["is_mine"]]) == 1


def _plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


def test_the_gate_list_query_walks_the_grant_index_under_rls(
    client: TestClient, engine: Engine, owner: Engine
) -> None:
    a, b, c = (make_company(client, name) for name in ("Alpha", "Beta", "Gamma"))
    companies = [a.company_id, b.company_id, c.company_id]
    with owner.begin() as connection:  # several thousand records, straight into the tables
        connection.execute(
            text(
                "INSERT INTO records (id, kind, title, customer_name, owner_company_id, "
                "description, version, created_at, updated_at) "
                "SELECT gen_random_uuid(), CASE WHEN i % 4 = 0 THEN 'account' ELSE 'opportunity' "
                "END, 'Deal ' || i, 'Customer', (CAST(:companies AS uuid[]))[1 + i % 3], '', 1, "
                "now(), now() FROM generate_series(1, 6000) AS i"
            ),
            {"companies": companies},
        )
        for statement in (
            "INSERT INTO record_participants (record_id, company_id, status, "
            "invited_by_company_id, invited_at, source) "
            "SELECT id, owner_company_id, 'active', owner_company_id, now(), 'manual' FROM records",
            "INSERT INTO record_spaces (record_id, company_id, version, custom, updated_at) "
            "SELECT id, owner_company_id, 1, '{}', now() FROM records",
            "INSERT INTO record_access (company_id, kind, principal, record_id, can_edit, via) "
            "SELECT owner_company_id, kind, CAST(:everyone AS uuid), id, true, 'participant' "
            "FROM records",
        ):
            connection.execute(text(statement), {"everyone": str(uuid.UUID(int=0))})
    with owner.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))

    viewer = Principal(uuid.UUID(a.company_id), uuid.UUID(a.user_id), hide_private=False)
    page = gate.visible(viewer, "opportunity").order_by(*(k.column for k in LIST_ORDER)).limit(51)
    with engine.connect() as connection:  # the app's role: the policies apply
        _as_company(connection, a.company_id)
        compiled = page.compile(dialect=connection.dialect)
        assert len(connection.execute(page).all()) == 51
        explained = connection.exec_driver_sql(
            "EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params
        ).scalar_one()
        connection.rollback()
    nodes = list(_plan_nodes(explained[0]["Plan"]))
    scans = [(n["Node Type"], n.get("Relation Name"), n.get("Index Name")) for n in nodes]
    assert not [s for s in scans if s[0] == "Seq Scan" and s[1] == "records"], scans
    assert [s for s in scans if s[1] == "record_access" and s[2] == "pk_record_access"], scans


def test_the_app_warns_when_postgresql_would_skip_the_policies(
    database_url: str,
    app_database_url: str,
    owner: Engine,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    for url, warned in ((database_url, True), (app_database_url, False)):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="coterie.authz.rls"):
            application = create_app(make_settings(url, tmp_path, smtp_port=9))
        application.state.engine.dispose()
        assert ("Row-level security does not apply" in caplog.text) is warned, url
    assert "superuser" in caplog.text or not caplog.text


def test_granting_the_app_role_refuses_the_owner_and_unknown_roles(owner: Engine) -> None:
    with owner.begin() as connection:
        with pytest.raises(ValueError, match="the owner"):
            rls.grant_app_role(connection, str(connection.scalar(text("SELECT current_user"))))
        with pytest.raises(ValueError, match="no PostgreSQL role"):
            rls.grant_app_role(connection, f"nobody_{uuid.uuid4().hex[:8]}")


def test_the_cli_grants_the_app_role_and_migrates_with_the_migration_url(
    database_url: str, app_database_url: str, owner: Engine, tmp_path: Path
) -> None:
    from tests.test_cli import flat, run

    role = str(make_url(app_database_url).username)
    # COTERIE_DATABASE_URL is the app's role; the owner comes from COTERIE_MIGRATION_DATABASE_URL
    with patch.dict(os.environ, {"COTERIE_MIGRATION_DATABASE_URL": database_url}):
        granted = run(["db", "grant-app-role", role], app_database_url, tmp_path)
    assert granted.exit_code == 0, granted.output
    with owner.connect() as connection:
        may = connection.execute(
            text(
                "SELECT has_table_privilege(:r, 'records', 'SELECT, INSERT, UPDATE, DELETE'), "
                "has_table_privilege(:r, 'alembic_version', 'SELECT'), "
                "has_table_privilege(:r, 'alembic_version', 'UPDATE')"
            ),
            {"r": role},
        ).one()
    assert tuple(may) == (True, True, False)

    owner_role = str(make_url(database_url).username)
    refused = run(["db", "grant-app-role", owner_role], database_url, tmp_path)
    assert refused.exit_code == 1
    assert "is the role migrations run as" in flat(refused.output)

    nowhere = "postgresql://nobody@127.0.0.1:1/nothing"
    with patch.dict(os.environ, {"COTERIE_MIGRATION_DATABASE_URL": nowhere}):
        unreachable = run(["db", "upgrade"], app_database_url, tmp_path)
    assert unreachable.exit_code == 1  # the migration URL was used, not the app's
    assert "Cannot open the database" in flat(unreachable.stderr)
    assert "127.0.0.1" in flat(unreachable.stderr)
