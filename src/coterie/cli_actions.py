"""What the CLI does to the database, as plain functions (testable without a terminal)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from coterie.auth import passwords, service
from coterie.config import Settings
from coterie.db import make_engine, make_session_factory, session_scope
from coterie.kit.problems import Problem
from coterie.models import Company, User
from coterie.models.vocabulary import Role, TokenKind
from coterie.network import members


def create_user(
    settings: Settings, email: str, name: str, company_domain: str, role: str, password: str
) -> uuid.UUID:
    engine = make_engine(settings.resolved_database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            company = session.scalar(
                select(Company).where(Company.domain == company_domain.lower())
            )
            if company is None:
                raise ValueError(f"No company with the domain {company_domain}.")
            if role not in {r.value for r in Role}:
                raise ValueError("The role must be admin, manager or member.")
            email = service.normalize_email(email)
            if members.email_taken(session, email):
                raise ValueError(f"{email} already has an account.")
            try:
                passwords.check_strength(password, "password", user_inputs=[email, name])
            except Problem as exc:
                raise ValueError(exc.detail) from exc
            user = User(
                company_id=company.id,
                email=email,
                name=name,
                role=role,
                password_hash=passwords.hash_password(password),
            )
            session.add(user)
            session.flush()
            return user.id
    finally:
        engine.dispose()


def create_token(settings: Settings, email: str, name: str, ttl: timedelta | None) -> str:
    engine = make_engine(settings.resolved_database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            user = session.scalar(select(User).where(User.email == service.normalize_email(email)))
            if user is None or not user.is_active:
                raise ValueError(f"No active user {email}.")
            _token, secret = service.issue_token(
                session, user, TokenKind.PERSONAL, name=name, ttl=ttl
            )
            return secret
    finally:
        engine.dispose()
