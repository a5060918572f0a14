"""Signup: a new company joins the network with its first admin."""

from __future__ import annotations

from sqlalchemy.orm import Session

from coterie import audit
from coterie.auth import passwords
from coterie.auth.service import normalize_email
from coterie.config import Settings
from coterie.kit.problems import Problem, conflict
from coterie.models import Company, User
from coterie.models.vocabulary import Role
from coterie.network import companies, members
from coterie.network.schemas import SignupIn


def signup(session: Session, settings: Settings, data: SignupIn) -> tuple[Company, User]:
    if not settings.signup_enabled:
        raise Problem(
            403, "signup-disabled", "Signup is disabled", "Ask an admin for an invitation."
        )
    email = normalize_email(str(data.user.email))
    if members.email_taken(session, email):
        raise conflict("email-taken", f"{email} already has a Coterie account.")
    passwords.check_strength(
        data.user.password,
        "body.user.password",
        user_inputs=[email, data.user.name, data.company.name, data.company.domain],
    )
    company = companies.create_company(session, data.company)
    user = User(
        company_id=company.id,
        email=email,
        name=data.user.name,
        password_hash=passwords.hash_password(data.user.password),
        role=Role.ADMIN.value,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        company_id=company.id,
        actor_user_id=user.id,
        action="company.signed_up",
        subject_type="company",
        subject_id=company.id,
    )
    return company, user
