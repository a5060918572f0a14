"""Loading the demo network (see `coterie.demo.data`) into a database, and what it contains.

Companies go through `network.companies.create_company` (the validation signup applies) and
partnerships through the partnership service (request, accept, decline, revoke, acting as each
company's manager or admin), so the rows and audit trail are those real use would leave. Users
are inserted directly with one shared password hash: argon2 costs about 150 ms per hash, so
hashing the demo password once keeps the network's load to about a second. Then the timestamps
are moved back to the history the data describes. Last, `coterie.demo.cosell` plays the
co-selling story (a program, a joint sales plan, shared accounts, leads, opportunities,
registrations, comments, workflow moves) as demo users, through the services: a second or two
more. No e-mail is sent: the loader's sessions have no outbox (what the services queue is
dropped with the session).
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from coterie import audit, migrate, wiring
from coterie.auth import passwords
from coterie.auth.principal import Actor
from coterie.authz import guard, rls
from coterie.config import Settings
from coterie.db import make_engine, make_session_factory, session_scope, utcnow
from coterie.demo import funds as demo_funds
from coterie.demo.cosell import CoSell
from coterie.demo.data import (
    ACTIVE,
    COMPANIES,
    DECLINED,
    PARTNERSHIPS,
    PENDING,
    REVOKED,
    CompanySpec,
    PartnershipSpec,
)
from coterie.models import AuditEvent, AuthToken, Company, User
from coterie.models.outbox import OutboxMessage
from coterie.models.vocabulary import PartnershipStatus, Role, TokenKind
from coterie.network import companies, partnerships

DEMO_PASSWORD = "coterie-demo-2026"


@dataclass(frozen=True)
class DemoLogin:
    email: str
    name: str
    role: str
    title: str


@dataclass(frozen=True)
class DemoCompany:
    name: str
    domain: str
    partner_types: list[str]
    admin_email: str
    logins: list[DemoLogin] = field(default_factory=list)

    def first_login(self, role: Role) -> DemoLogin | None:
        return next((login for login in self.logins if login.role == role.value), None)


@dataclass(frozen=True)
class DemoSummary:
    password: str
    companies: list[DemoCompany] = field(default_factory=list)
    partnerships: dict[str, int] = field(default_factory=dict)  # status -> how many

    @property
    def users(self) -> int:
        return sum(len(company.logins) for company in self.companies)


def describe() -> DemoSummary:
    """What `load` creates: companies, logins and partnership counts (no database needed)."""
    demo_companies = [
        DemoCompany(
            name=spec.name,
            domain=spec.domain,
            partner_types=[t.value for t in spec.partner_types],
            admin_email=spec.email_of(spec.first(Role.ADMIN)),
            logins=[
                DemoLogin(spec.email_of(p), p.name, p.role.value, p.title) for p in spec.people
            ],
        )
        for spec in COMPANIES
    ]
    counts = Counter(p.status for p in PARTNERSHIPS)
    statuses = (ACTIVE, PENDING, DECLINED, REVOKED)
    by_status = {status.value: counts[status] for status in statuses}
    return DemoSummary(password=DEMO_PASSWORD, companies=demo_companies, partnerships=by_status)


def load(settings: Settings) -> DemoSummary:
    """Create the demo network in the database of `settings`, in one transaction.

    Raises `ValueError` if any demo company or login already exists (nothing is written), and
    `migrate.DatabaseNotMigratedError` if the schema is not current.
    """
    wiring.install()  # the demo writes records through the services: their hooks need subscribers
    engine = make_engine(settings.resolved_database_url)
    try:
        migrate.ensure_migrated(engine)
        factory = make_session_factory(engine)
        guard.install(factory)  # as the app's sessions: gate reads only, bound to their company
        rls.install(factory)
        with session_scope(factory) as session:
            _refuse_if_loaded(session)
            started = utcnow()
            _Loader(session, settings).run()
            # the demo's history (invitations, notifications) is not e-mailed to its fictional
            # people: the outbox rows its services queued go with the transaction's end (the
            # transaction holds the write lock on SQLite; on PostgreSQL a demo load runs alone)
            session.execute(delete(OutboxMessage).where(OutboxMessage.created_at >= started))
    finally:
        engine.dispose()
    return describe()


def _refuse_if_loaded(session: Session) -> None:
    domains = [spec.domain for spec in COMPANIES]
    taken = sorted(session.scalars(select(Company.domain).where(Company.domain.in_(domains))))
    if taken:
        raise ValueError(
            f"The demo network is already in this database ({len(taken)} of its "
            f"{len(domains)} companies exist, e.g. {taken[0]}); nothing was loaded."
        )
    emails = [spec.email_of(person) for spec in COMPANIES for person in spec.people]
    used = sorted(session.scalars(select(User.email).where(User.email.in_(emails))))
    if used:
        raise ValueError(
            f"{len(used)} demo login(s) already have accounts in this database, e.g. {used[0]}; "
            "nothing was loaded."
        )


class _Loader:
    def __init__(self, session: Session, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self.now = utcnow()
        self.password_hash = passwords.hash_password(DEMO_PASSWORD)
        self.companies: dict[str, Company] = {}
        self.users: dict[tuple[str, Role], User] = {}  # (domain, role) -> first such user
        self.people: dict[str, User] = {}  # e-mail -> user
        self.history: dict[tuple[uuid.UUID, str], datetime] = {}  # (partnership, action) -> when

    def days_ago(self, days: int) -> datetime:
        return self.now - timedelta(days=days)

    def run(self) -> None:
        for spec in COMPANIES:
            self.add_company(spec)
        for link in PARTNERSHIPS:
            self.add_partnership(link)
        self.session.flush()
        self.backdate_audit_trail()
        story = CoSell(self.session, self.settings, self.people, self.companies, self.actor_of)
        story.run()
        demo_funds.run(story)  # the program host's marketing fund and two partners' requests

    def add_company(self, spec: CompanySpec) -> None:
        company = companies.create_company(self.session, spec.profile())
        joined = self.days_ago(spec.joined_days_ago)
        company.created_at = company.updated_at = joined
        self.companies[spec.domain] = company
        for index, person in enumerate(spec.people):
            # The admin signed the company up; colleagues were invited over the next weeks.
            arrived = joined + timedelta(days=min(index * 9, spec.joined_days_ago // 2))
            user = User(
                company=company,
                email=spec.email_of(person),
                name=person.name,
                title=person.title,
                role=person.role.value,
                password_hash=self.password_hash,
                created_at=arrived,
            )
            self.session.add(user)
            self.people[user.email] = user
            self.users.setdefault((spec.domain, person.role), user)
        self.session.flush()
        admin = self.users[(spec.domain, Role.ADMIN)]
        audit.record_as(
            self.session,
            company_id=company.id,
            actor_user_id=admin.id,
            action="company.signed_up",
            subject_type="company",
            subject_id=company.id,
        )
        self.history[(company.id, "company.signed_up")] = joined

    def actor(self, domain: str, role: Role = Role.MANAGER) -> Actor:
        return self.actor_of(self.users[(domain, role)])

    def actor_of(self, user: User) -> Actor:
        # The services take the acting user with the token they came in with. The loader is no
        # signed-in request: the token is a transient placeholder, never added to the session,
        # so no credential is created.
        placeholder = AuthToken(user_id=user.id, kind=TokenKind.PERSONAL.value, name="demo")
        return Actor(user=user, token=placeholder, session=self.session)

    def add_partnership(self, link: PartnershipSpec) -> None:
        session = self.session
        requested = self.days_ago(link.requested_days_ago)
        answered = requested + timedelta(days=link.answered_after_days)
        recipient_id = self.companies[link.recipient].id
        partnership = partnerships.request(
            session, self.settings, self.actor(link.requester), recipient_id, link.message
        )
        partnership.created_at = requested
        self.history[(partnership.id, "partnership.requested")] = requested
        if link.status == PartnershipStatus.PENDING:
            return
        recipient = self.actor(link.recipient)
        if link.status == PartnershipStatus.DECLINED:
            partnerships.decline(session, recipient, partnership.id)
            partnership.responded_at = partnership.ended_at = answered
            self.history[(partnership.id, "partnership.declined")] = answered
            return
        partnerships.accept(session, recipient, partnership.id)
        partnership.responded_at = answered
        self.history[(partnership.id, "partnership.accepted")] = answered
        if link.status == PartnershipStatus.REVOKED:
            if link.ended_by is None or link.ended_days_ago is None:
                raise ValueError(f"{link}: a revoked partnership needs ended_by and ended_days_ago")
            partnerships.revoke(session, self.actor(link.ended_by, Role.ADMIN), partnership.id)
            ended = self.days_ago(link.ended_days_ago)
            partnership.ended_at = ended
            self.history[(partnership.id, "partnership.revoked")] = ended

    def backdate_audit_trail(self) -> None:
        """Give each audit row the time its action took place in the demo's history."""
        company_ids = [company.id for company in self.companies.values()]
        events = self.session.scalars(
            select(AuditEvent).where(AuditEvent.company_id.in_(company_ids))
        )
        for event in events:
            if event.subject_type not in ("company", "partnership"):
                continue
            when = self.history.get((uuid.UUID(event.subject_id), event.action))
            if when is not None:
                event.created_at = when
        self.session.flush()
