"""Throttling of password guessing: failures per account and per client address, from the DB."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coterie.config import Settings
from coterie.db import utcnow
from coterie.kit.problems import Problem
from coterie.models import LoginAttempt


def check_not_throttled(session: Session, settings: Settings, email: str, address: str) -> None:
    """429 with Retry-After when this account or this address failed too often recently."""
    window = timedelta(minutes=settings.login_throttle_window_minutes)
    since = utcnow() - window
    failures = (
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.succeeded.is_(False), LoginAttempt.created_at >= since)
    )
    last_success = session.scalar(
        select(func.max(LoginAttempt.created_at)).where(
            LoginAttempt.email == email, LoginAttempt.succeeded.is_(True)
        )
    )
    account_since = max(since, last_success) if last_success else since
    by_account = (
        session.scalar(
            failures.where(LoginAttempt.email == email, LoginAttempt.created_at > account_since)
        )
        or 0
    )
    by_address = session.scalar(failures.where(LoginAttempt.address == address)) or 0
    if (
        by_account >= settings.login_failures_per_account
        or by_address >= settings.login_failures_per_address
    ):
        seconds = int(window.total_seconds())
        raise Problem(
            429,
            "too-many-login-attempts",
            "Too many login attempts",
            "Too many failed logins for this account or from this address. Try again in "
            f"{settings.login_throttle_window_minutes} minutes or reset your password.",
            headers={"Retry-After": str(seconds)},
        )


def record_attempt(session: Session, email: str, address: str, succeeded: bool) -> None:
    session.add(LoginAttempt(email=email, address=address, succeeded=succeeded))
