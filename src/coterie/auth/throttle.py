"""Throttling of password guessing, from the record of attempts (`login_attempts`).

The scheme follows OWASP's advice against brute force without handing an attacker a lock-out
of everyone (Authentication and Credential Stuffing Prevention cheat sheets): budgets of
failures per window (`COTERIE_LOGIN_THROTTLE_WINDOW_MINUTES`, 15), each locking the narrowest
thing that explains the failures, and never one address's failures locking out another's:

1. **One address** (`COTERIE_LOGIN_FAILURES_PER_ADDRESS`, 20, across accounts): that address is
   refused, for every account. Stops one machine spraying passwords over many accounts.
2. **One account from one address** (`COTERIE_LOGIN_FAILURES_PER_ACCOUNT`, 5, counted since
   that account last signed in from that address): that account is refused from that address.
   Stops guessing one password from one place; the user elsewhere is not affected.
3. **One account from all addresses** (`COTERIE_LOGIN_FAILURES_PER_ACCOUNT_ALL_ADDRESSES`, 20,
   counted since the account last signed in from anywhere): the account is refused from
   addresses it has not signed in from within `COTERIE_LOGIN_KNOWN_ADDRESS_DAYS` (30). Stops a
   distributed guess at one account, while its owner keeps signing in from their usual places
   (OWASP's "device cookie" idea, with the address as the device: the API has no cookies).

A successful password reset records a success from the address it was made from, so it lifts
the locks of rules 2 and 3 for that address. Unknown e-mail addresses are throttled exactly like
real accounts, so the answers reveal nothing. The address is the client's as the app sees it:
behind a reverse proxy, set `COTERIE_TRUSTED_PROXIES`, or every user shares the proxy's address
(and rule 1 would lock them out together).

Checks and records are separate statements, not one atomic step: on PostgreSQL (and on SQLite,
where the password is verified outside the write lock), simultaneous guesses can each pass the
check before any is recorded, so a budget can be overrun by the number of requests in flight.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coterie.config import Settings
from coterie.db import utcnow
from coterie.kit.problems import Problem
from coterie.models import LoginAttempt


def check_not_throttled(session: Session, settings: Settings, email: str, address: str) -> None:
    """429 with Retry-After when a budget above is spent for this account and address."""
    since = utcnow() - timedelta(minutes=settings.login_throttle_window_minutes)
    by_address = session.scalar(
        select(func.count()).where(
            LoginAttempt.address == address,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.created_at >= since,
        )
    )
    if (by_address or 0) >= settings.login_failures_per_address:
        raise _throttled(settings, "from this address")
    attempts = session.execute(
        select(LoginAttempt.address, LoginAttempt.succeeded, LoginAttempt.created_at).where(
            LoginAttempt.email == email, LoginAttempt.created_at >= since
        )
    ).all()
    here = [(ok, at) for where, ok, at in attempts if where == address]
    if _failures_since_success(here) >= settings.login_failures_per_account:
        raise _throttled(settings, "for this account from this address")
    everywhere = [(ok, at) for _where, ok, at in attempts]
    if _failures_since_success(
        everywhere
    ) >= settings.login_failures_per_account_all_addresses and not _known_address(
        session, settings, email, address
    ):
        raise _throttled(settings, "for this account from addresses it has not signed in from")


def record_attempt(session: Session, email: str, address: str, succeeded: bool) -> None:
    session.add(LoginAttempt(email=email, address=address, succeeded=succeeded))


def _failures_since_success(attempts: list[tuple[bool, datetime]]) -> int:
    successes = [at for ok, at in attempts if ok]
    last_success = max(successes) if successes else None
    return sum(1 for ok, at in attempts if not ok and (last_success is None or at > last_success))


def _known_address(session: Session, settings: Settings, email: str, address: str) -> bool:
    """Whether the account signed in from `address` within the known-address period."""
    since = utcnow() - timedelta(days=settings.login_known_address_days)
    known = session.scalar(
        select(LoginAttempt.id)
        .where(
            LoginAttempt.email == email,
            LoginAttempt.address == address,
            LoginAttempt.succeeded.is_(True),
            LoginAttempt.created_at >= since,
        )
        .limit(1)
    )
    return known is not None


def _throttled(settings: Settings, which: str) -> Problem:
    minutes = settings.login_throttle_window_minutes
    return Problem(
        429,
        "too-many-login-attempts",
        "Too many login attempts",
        f"Too many failed logins {which}. Try again in {minutes} minutes, or reset your password.",
        headers={"Retry-After": str(minutes * 60)},
    )
