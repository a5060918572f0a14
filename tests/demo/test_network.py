"""Loading the demo network into real databases (SQLite and PostgreSQL), and using it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from coterie import migrate
from coterie.app import create_app
from coterie.auth import passwords
from coterie.config import Settings
from coterie.db import make_engine, utcnow
from coterie.demo import network
from coterie.demo.data import COMPANIES, PARTNERSHIPS
from coterie.models import AuditEvent, AuthToken, Company, Partnership, User
from coterie.models.vocabulary import PartnershipStatus, PartnerType, Role
from tests.conftest import make_settings
from tests.fixtures.smtp import Inbox

NIMBUS_ADMIN = "dana.whitfield@nimbus-cloud.example"


@pytest.fixture
def demo_engine(demo_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(demo_settings.resolved_database_url)
    yield engine
    engine.dispose()


def counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Company, User, Partnership, AuditEvent, AuthToken)
        }


def test_load_creates_the_network_it_describes(
    demo_settings: Settings, demo_engine: Engine, inbox: Inbox
) -> None:
    summary = network.load(demo_settings)

    assert summary == network.describe()
    assert summary.password == network.DEMO_PASSWORD
    with Session(demo_engine) as session:
        companies = list(session.scalars(select(Company)))
        assert len(companies) == len(COMPANIES) >= 12
        assert {t for c in companies for t in c.partner_types} == set(PartnerType)
        for company in companies:
            users = list(session.scalars(select(User).where(User.company_id == company.id)))
            roles = Counter(u.role for u in users)
            assert 3 <= len(users) <= 6, company.name
            assert roles[Role.ADMIN.value] == 1
            assert 1 <= roles[Role.MANAGER.value] <= 2
            assert all(u.email.endswith("@" + company.domain) for u in users)
            assert all(u.title for u in users)
        statuses = Counter(session.scalars(select(Partnership.status)))
        assert statuses == Counter(p.status.value for p in PARTNERSHIPS)
        assert set(statuses) == {s.value for s in PartnershipStatus}
    assert not inbox.messages, "loading the demo must not e-mail anyone"
    mail_dir = demo_settings.resolved_mail_dir
    assert mail_dir is None or not any(mail_dir.glob("*.eml"))


def test_every_demo_user_shares_one_hash_of_the_demo_password(
    demo_settings: Settings, demo_engine: Engine
) -> None:
    network.load(demo_settings)

    with Session(demo_engine) as session:
        hashes = set(session.scalars(select(User.password_hash)))
    assert len(hashes) == 1
    assert passwords.verify_password(hashes.pop(), network.DEMO_PASSWORD)


def test_the_summary_lists_admin_manager_and_member_logins(demo_settings: Settings) -> None:
    summary = network.load(demo_settings)

    for company in summary.companies:
        admin = company.first_login(Role.ADMIN)
        assert admin is not None
        assert admin.email == company.admin_email
        assert company.first_login(Role.MANAGER) is not None
        assert company.first_login(Role.MEMBER) is not None
    assert summary.users == sum(len(spec.people) for spec in COMPANIES)
    assert summary.partnerships["revoked"] == summary.partnerships["declined"] == 1


def test_history_is_backdated_consistently(demo_settings: Settings, demo_engine: Engine) -> None:
    network.load(demo_settings)

    now = utcnow()
    with Session(demo_engine) as session:
        for company in session.scalars(select(Company)):
            assert company.created_at < now
        for p in session.scalars(select(Partnership)):
            assert p.created_at < now
            assert p.created_at >= max(p.requester.created_at, p.recipient.created_at)
            if p.status == PartnershipStatus.PENDING.value:
                assert p.responded_at is None
                assert p.ended_at is None
                continue
            assert p.responded_at is not None
            assert p.created_at < p.responded_at <= now
            if p.status == PartnershipStatus.ACTIVE.value:
                assert p.ended_at is None
            else:
                assert p.ended_at is not None
                assert p.responded_at <= p.ended_at <= now
            events = {
                e.action: e.created_at
                for e in session.scalars(
                    select(AuditEvent).where(AuditEvent.subject_id == str(p.id))
                )
            }
            assert events["partnership.requested"] == p.created_at
        revoked = session.scalar(
            select(Partnership).where(Partnership.status == PartnershipStatus.REVOKED.value)
        )
        assert revoked is not None
        assert revoked.ended_by_company_id in (
            revoked.requester_company_id,
            revoked.recipient_company_id,
        )


def test_loading_creates_no_credentials(demo_settings: Settings, demo_engine: Engine) -> None:
    network.load(demo_settings)

    assert counts(demo_engine)["auth_tokens"] == 0


def test_a_second_load_is_refused_and_changes_nothing(
    demo_settings: Settings, demo_engine: Engine
) -> None:
    network.load(demo_settings)
    before = counts(demo_engine)

    with pytest.raises(ValueError, match="already in this database"):
        network.load(demo_settings)

    assert counts(demo_engine) == before


def test_a_taken_demo_login_is_refused_before_anything_is_written(
    demo_settings: Settings, demo_engine: Engine
) -> None:
    with Session(demo_engine) as session:
        company = Company(name="Elsewhere", name_key="elsewhere", domain="elsewhere.example")
        session.add(company)
        session.flush()
        session.add(
            User(
                company_id=company.id,
                email=NIMBUS_ADMIN,
                name="Someone Else",
                role="admin",
                password_hash="x",
            )
        )
        session.commit()

    with pytest.raises(ValueError, match=NIMBUS_ADMIN):
        network.load(demo_settings)

    assert counts(demo_engine)["companies"] == 1


def test_load_refuses_an_unmigrated_database(empty_database_url: str, tmp_path: Path) -> None:
    settings = make_settings(empty_database_url, tmp_path, 0, smtp_host="")

    with pytest.raises(migrate.DatabaseNotMigratedError, match="coterie db upgrade"):
        network.load(settings)


def test_demo_users_sign_in_and_see_their_network(demo_settings: Settings) -> None:
    summary = network.load(demo_settings)
    app = create_app(demo_settings)
    nimbus = summary.companies[0]
    try:
        with TestClient(app) as client:
            for login in nimbus.logins[:3]:
                response = client.post(
                    "/api/v1/auth/token",
                    json={"email": login.email, "password": network.DEMO_PASSWORD},
                )
                assert response.status_code == 200, response.text
            response = client.post(
                "/api/v1/auth/token",
                json={"email": nimbus.admin_email, "password": network.DEMO_PASSWORD},
            )
            headers = {"Authorization": f"Bearer {response.json()['access_token']}"}

            me = client.get("/api/v1/me", headers=headers).json()
            assert me["company"]["name"] == "Nimbus Cloud"
            assert me["user"]["role"] == "admin"
            directory = client.get("/api/v1/companies", headers=headers).json()
            assert {c["name"] for c in directory["items"]} == {s.name for s in COMPANIES}
            links = client.get("/api/v1/partnerships?limit=100", headers=headers).json()
            seen = {(p["status"], p["direction"]) for p in links["items"]}
            assert ("pending", "incoming") in seen
            assert ("pending", "outgoing") in seen
            assert ("active", "incoming") in seen
            assert ("active", "outgoing") in seen
    finally:
        app.state.engine.dispose()
