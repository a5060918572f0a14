"""Signup: a new company joins the network with its first admin (and, announced on
`network.hooks.company_created`, whatever the packages above set up for a new company: the
standard pipeline workflow).

The e-mail address and the domain are checked before anything is written, and again when the
insert meets a signup that committed them in between (PostgreSQL runs concurrent signups side
by side; on SQLite, writers queue for the write lock and the first check sees the winner), so
both orders answer the same 409.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coterie import audit
from coterie.auth import passwords
from coterie.auth.service import normalize_email
from coterie.config import Settings
from coterie.kit.problems import Problem, conflict
from coterie.models import Company, User
from coterie.models.vocabulary import Role
from coterie.network import companies, hooks, members
from coterie.network.schemas import SignupIn


def signup(session: Session, settings: Settings, data: SignupIn) -> tuple[Company, User]:
    if not settings.signup_enabled:
        raise Problem(
            403, "signup-disabled", "Signup is disabled", "Ask an admin for an invitation."
        )
    email = normalize_email(str(data.user.email))
    _refuse_taken(session, email, data)
    passwords.check_strength(
        data.user.password,
        "body.user.password",
        user_inputs=[email, data.user.name, data.company.name, data.company.domain],
    )
    password_hash = passwords.hash_password(data.user.password)
    try:
        with session.begin_nested():
            company = companies.create_company(session, data.company)
            user = User(
                company_id=company.id,
                email=email,
                name=data.user.name,
                password_hash=password_hash,
                role=Role.ADMIN.value,
            )
            session.add(user)
            session.flush()
    except IntegrityError:
        _refuse_taken(session, email, data)  # committed by a simultaneous signup
        raise
    audit.record_as(
        session,
        company_id=company.id,
        actor_user_id=user.id,
        action="company.signed_up",
        subject_type="company",
        subject_id=company.id,
    )
    hooks.company_created.announce(hooks.CompanyCreated(session, settings, company, user))
    return company, user


def _refuse_taken(session: Session, email: str, data: SignupIn) -> None:
    if members.email_taken(session, email):
        raise conflict("email-taken", f"{email} already has a Coterie account.")
    if companies.domain_taken(session, data.company.domain):
        raise companies.domain_conflict(data.company.domain)
