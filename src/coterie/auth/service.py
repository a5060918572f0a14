"""Authentication use cases: log in, issue and check tokens, sessions, passwords and resets.

Nothing here commits, except `login` and `change_password`, which must keep the record of a
failed attempt even though the request fails: that record is what throttles the next guess.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from coterie import audit
from coterie.auth import passwords, secrets, signing, throttle
from coterie.auth.principal import Actor
from coterie.authz import principal
from coterie.config import Settings
from coterie.db import utcnow
from coterie.kit.problems import Problem, invalid, not_found
from coterie.mail import delivery, messages
from coterie.models import AccessRule, AuthToken, Company, User
from coterie.models.auth import PasswordResetRequest
from coterie.models.vocabulary import TokenKind

LAST_USED_RESOLUTION = timedelta(seconds=60)
RESET_PURPOSE = "password-reset"
RESET_WINDOW = timedelta(hours=1)
RESET_KEPT = timedelta(days=1)
log = logging.getLogger(__name__)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def bad_credentials() -> Problem:
    return Problem(401, "invalid-credentials", "Invalid credentials", "Wrong e-mail or password.")


def login(session: Session, settings: Settings, email: str, password: str, address: str) -> User:
    email = normalize_email(email)
    throttle.check_not_throttled(session, settings, email, address)
    user = session.scalar(select(User).where(User.email == email))
    # Verifying costs ~0.1 s of CPU: not inside the transaction, where SQLite would hold its
    # write lock for it (a request that writes takes it when it begins) and stall every writer.
    session.commit()
    ok = passwords.verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        throttle.record_attempt(session, email, address, succeeded=False)
        session.commit()  # the failure must be remembered although the request fails
        raise bad_credentials()
    throttle.record_attempt(session, email, address, succeeded=True)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login_at = utcnow()
    return user


def issue_token(
    session: Session,
    user: User,
    kind: TokenKind,
    *,
    name: str = "",
    ttl: timedelta | None = None,
) -> tuple[AuthToken, str]:
    """A new token row and its secret; the secret exists only in this return value."""
    secret = secrets.new_secret(kind.value)
    token = AuthToken(
        user_id=user.id,
        kind=kind.value,
        name=name,
        token_hash=secrets.digest(secret),
        prefix=secrets.display_prefix(secret),
        expires_at=utcnow() + ttl if ttl else None,
    )
    session.add(token)
    session.flush()
    return token, secret


def create_personal_token(
    session: Session, actor: Actor, name: str, ttl: timedelta | None
) -> tuple[AuthToken, str]:
    token, secret = issue_token(session, actor.user, TokenKind.PERSONAL, name=name, ttl=ttl)
    audit.record(
        session,
        actor,
        "token.created",
        "token",
        token.id,
        name=name,
    )
    return token, secret


def authenticate(session: Session, secret: str, kinds: set[TokenKind]) -> Actor | None:
    """The actor behind a live token of one of `kinds`, or None.

    One statement: the token, its user and company (whose regions and partner types load only
    when asked for), and whether the company has enabled access rules (when it has none, the
    principal built later in the transaction needs no query of its own for them)."""
    has_rules = (
        select(AccessRule.id)
        .where(AccessRule.company_id == User.company_id, AccessRule.enabled.is_(True))
        .exists()
    )
    row = session.execute(
        select(AuthToken, User, has_rules)
        .join(User, User.id == AuthToken.user_id)
        .where(AuthToken.token_hash == secrets.digest(secret))
        .options(
            joinedload(User.company).lazyload(Company.region_rows),
            joinedload(User.company).lazyload(Company.partner_type_rows),
        )
    ).first()
    if row is None:
        return None
    token, user, rules = row
    if not rules:
        principal.note_no_rules(session, user.company_id)
    now = utcnow()
    if (
        token.kind not in {k.value for k in kinds}
        or token.revoked_at is not None
        or (token.expires_at is not None and token.expires_at <= now)
        or not user.is_active
    ):
        return None
    return Actor(user=user, token=token, session=session)


def use_to_note(token: AuthToken) -> bool:
    """Whether `token`'s last use is older than the resolution it is kept at (a minute)."""
    return token.last_used_at is None or utcnow() - token.last_used_at >= LAST_USED_RESOLUTION


def note_use(session: Session, token: AuthToken) -> None:
    """Record that `token` was used now, as one UPDATE (the caller's transaction boundaries
    decide when it is committed)."""
    now = utcnow()
    session.execute(update(AuthToken).where(AuthToken.id == token.id).values(last_used_at=now))
    set_committed_value(token, "last_used_at", now)


def revoke_token(session: Session, actor: Actor, token_id: uuid.UUID) -> AuthToken:
    token = session.scalar(
        select(AuthToken).where(AuthToken.id == token_id, AuthToken.user_id == actor.user_id)
    )
    if token is None or token.kind != TokenKind.PERSONAL.value:
        raise not_found("token")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(
            session,
            actor,
            "token.revoked",
            "token",
            token.id,
        )
    return token


def list_personal_tokens(session: Session, actor: Actor) -> list[AuthToken]:
    return list(
        session.scalars(
            select(AuthToken)
            .where(
                AuthToken.user_id == actor.user_id,
                AuthToken.kind == TokenKind.PERSONAL.value,
                AuthToken.revoked_at.is_(None),
            )
            .order_by(AuthToken.created_at.desc())
        )
    )


def end_token(session: Session, token: AuthToken) -> None:
    """Logout: the presented login token or session stops working at once."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()


def revoke_all_sign_ins(session: Session, user_id: uuid.UUID) -> None:
    session.execute(
        update(AuthToken)
        .where(
            AuthToken.user_id == user_id,
            AuthToken.kind.in_([TokenKind.LOGIN.value, TokenKind.SESSION.value]),
            AuthToken.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )


def set_password(session: Session, user: User, new_password: str, path: str) -> None:
    passwords.check_strength(
        new_password, path, user_inputs=[user.email, user.name, user.company.name]
    )
    user.password_hash = passwords.hash_password(new_password)


def change_password(
    session: Session,
    actor: Actor,
    current_password: str,
    new_password: str,
    *,
    settings: Settings,
    address: str,
) -> None:
    """A wrong current password counts as a failed login: else a stolen token would be a free,
    unthrottled oracle for guessing the password behind it."""
    throttle.check_not_throttled(session, settings, actor.user.email, address)
    if not passwords.verify_password(actor.user.password_hash, current_password):
        throttle.record_attempt(session, actor.user.email, address, succeeded=False)
        session.commit()  # the failure must be remembered although the request fails
        raise invalid("body.current_password", "is not your current password")
    set_password(session, actor.user, new_password, "body.new_password")
    revoke_all_sign_ins(session, actor.user_id)
    audit.record(
        session,
        actor,
        "user.password_changed",
        "user",
        actor.user_id,
    )


def _fingerprint(password_hash: str) -> str:
    """Changes whenever the password does, so a reset link works only once."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:20]


def request_password_reset(
    session: Session, settings: Settings, email: str, *, address: str
) -> None:
    """Queue a reset link if the account exists and has not had too many this hour; answer the
    same either way, after the same work (no enumeration): every request is recorded, and the
    e-mail is an outbox row in that same transaction, never an SMTP exchange."""
    normalized = normalize_email(email)
    digest = hashlib.sha256(normalized.encode()).hexdigest()
    since = utcnow() - RESET_WINDOW
    recent = session.scalar(
        select(func.count()).where(
            PasswordResetRequest.email_digest == digest, PasswordResetRequest.created_at > since
        )
    )
    session.add(PasswordResetRequest(email_digest=digest, address=address[:64]))
    user = session.scalar(select(User).where(User.email == normalized))
    if user is None or not user.is_active:
        return
    if (recent or 0) >= settings.password_reset_mails_per_hour:
        log.info("password reset for %s not mailed: %d requests this hour", user.id, recent)
        return
    token = signing.sign(
        settings.secret(),
        RESET_PURPOSE,
        {"u": user.id.hex, "f": _fingerprint(user.password_hash)},
    )
    link = f"{settings.resolved_base_url}/password-reset/confirm?token={token}"
    delivery.queue(
        session,
        messages.password_reset(user.email, user.name, link, settings.password_reset_ttl_minutes),
        topic="password_reset",
        company_id=user.company_id,
    )


def password_reset_user(session: Session, settings: Settings, token: str) -> User:
    """The user a reset link is for, if the link is genuine, unexpired and not yet used."""
    payload = signing.unsign(
        settings.secret(), RESET_PURPOSE, token, settings.password_reset_ttl_minutes * 60
    )
    try:
        user_id = uuid.UUID(str(payload.get("u")))
    except ValueError as exc:
        raise Problem(400, "token-invalid", "Invalid token", "This link is not valid.") from exc
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise Problem(400, "token-invalid", "Invalid token", "This link is not valid.")
    if payload.get("f") != _fingerprint(user.password_hash):
        raise Problem(400, "token-used", "Link already used", "This reset link was already used.")
    return user


def confirm_password_reset(
    session: Session, settings: Settings, token: str, new_password: str, *, address: str = ""
) -> User:
    user = password_reset_user(session, settings, token)
    set_password(session, user, new_password, "body.password")
    revoke_all_sign_ins(session, user.id)
    # Proof of the mailbox ends a lock-out of the account, as the 429 answer promises.
    throttle.record_attempt(session, user.email, address, succeeded=True)
    audit.record_as(
        session,
        company_id=user.company_id,
        actor_user_id=user.id,
        action="user.password_reset",
        subject_type="user",
        subject_id=user.id,
    )
    return user


def prune_password_reset_requests(session: Session, older_than: timedelta = RESET_KEPT) -> int:
    """Forget reset requests older than `older_than` (they throttle only the last hour)."""
    result = session.execute(
        delete(PasswordResetRequest).where(PasswordResetRequest.created_at < utcnow() - older_than)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
