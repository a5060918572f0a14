"""Members of a company: users and roles, and invitations of colleagues by e-mail.

An invitation link carries a token signed with the secret key (itsdangerous) that names the
invitation and a random nonce; the database keeps only the nonce's digest, the expiry, and
whether it was used or revoked, so a link works once, until it expires, for one e-mail address.
"""

from __future__ import annotations

import secrets as random
import uuid
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coterie import audit
from coterie.auth import passwords, service, signing
from coterie.auth import secrets as token_secrets
from coterie.auth.principal import Actor
from coterie.authz.maintenance import reapply_visibility
from coterie.config import Settings
from coterie.db import utcnow
from coterie.kit.pagination import SortKey, paginate
from coterie.kit.problems import Problem, conflict, forbidden, not_found
from coterie.mail import delivery, messages
from coterie.models import AuthToken, Company, Invitation, User
from coterie.models.vocabulary import Role
from coterie.network.schemas import InvitationAcceptIn, InvitationOut, InvitationPreview, UserOut

INVITATION_PURPOSE = "invitation"
USER_ORDER = (SortKey(User.email),)


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        name=user.name,
        email=user.email,
        title=user.title,
        role=Role(user.role),
        is_active=user.is_active,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
    )


def email_taken(session: Session, email: str) -> bool:
    return session.scalar(select(func.count()).where(User.email == email)) != 0


def list_users(
    session: Session, actor: Actor, *, limit: int, cursor: str | None
) -> tuple[list[User], str | None]:
    statement = select(User).where(User.company_id == actor.company_id)
    return paginate(
        session, statement, USER_ORDER, limit=limit, cursor=cursor, key_of=lambda u: (u.email,)
    )


def get_user(session: Session, actor: Actor, user_id: uuid.UUID) -> User:
    user = session.get(User, user_id)
    if user is None or user.company_id != actor.company_id:
        raise not_found("user")
    return user


def _active_admins(session: Session, company_id: uuid.UUID) -> int:
    return (
        session.scalar(
            select(func.count()).where(
                User.company_id == company_id,
                User.role == Role.ADMIN.value,
                User.is_active.is_(True),
            )
        )
        or 0
    )


def update_user(
    session: Session, actor: Actor, user_id: uuid.UUID, *, role: Role | None, is_active: bool | None
) -> User:
    actor.require_role(Role.ADMIN, "change roles or deactivate users")
    user = get_user(session, actor, user_id)
    losing_admin = (
        user.role == Role.ADMIN.value
        and user.is_active
        and ((role is not None and role != Role.ADMIN) or is_active is False)
    )
    if losing_admin and _active_admins(session, actor.company_id) <= 1:
        raise conflict(
            "last-admin",
            "This is the company's last active admin: make someone else admin first.",
        )
    changes: dict[str, str | bool] = {}
    if role is not None and role.value != user.role:
        user.role = role.value
        changes["role"] = role.value
    if is_active is not None and is_active != user.is_active:
        user.is_active = is_active
        changes["is_active"] = is_active
        if not is_active:
            service.revoke_all_sign_ins(session, user.id)
            _revoke_personal_tokens(session, user.id)
    if changes:
        reapply_visibility(session, actor.company_id)  # role and activity decide per-user grants
        audit.record(
            session,
            actor,
            "user.updated",
            "user",
            user.id,
            **changes,
        )
    return user


def _revoke_personal_tokens(session: Session, user_id: uuid.UUID) -> None:
    for token in session.scalars(
        select(AuthToken).where(AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None))
    ):
        token.revoked_at = utcnow()


def invitation_out(invitation: Invitation, session: Session) -> InvitationOut:
    inviter = session.get(User, invitation.invited_by_id) if invitation.invited_by_id else None
    return InvitationOut(
        id=invitation.id,
        email=invitation.email,
        role=Role(invitation.role),
        status=invitation.status(utcnow()),
        invited_by=inviter.name if inviter else None,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
    )


def invite(
    session: Session, settings: Settings, actor: Actor, email: str, role: Role
) -> Invitation:
    actor.require_role(Role.MANAGER, "invite colleagues")
    if role == Role.ADMIN and not actor.has_role(Role.ADMIN):
        raise forbidden("Only an admin can invite another admin.")
    email = service.normalize_email(email)
    if email_taken(session, email):
        raise conflict("email-taken", f"{email} already has a Coterie account.")
    now = utcnow()
    for previous in session.scalars(
        select(Invitation).where(
            Invitation.company_id == actor.company_id,
            Invitation.email == email,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
    ):
        previous.revoked_at = now  # a new invitation replaces any earlier link
    nonce = random.token_urlsafe(16)
    invitation = Invitation(
        company_id=actor.company_id,
        email=email,
        role=role.value,
        invited_by_id=actor.user_id,
        nonce_hash=token_secrets.digest(nonce),
        expires_at=now + timedelta(hours=settings.invitation_ttl_hours),
    )
    session.add(invitation)
    session.flush()
    token = signing.sign(
        settings.secret(), INVITATION_PURPOSE, {"i": invitation.id.hex, "n": nonce}
    )
    link = f"{settings.resolved_base_url}/invitations/accept?token={token}"
    delivery.queue(
        session,
        messages.invitation(
            email, actor.company.name, actor.user.name, link, settings.invitation_ttl_hours
        ),
        topic="invitation",
        company_id=actor.company_id,
    )
    audit.record(
        session,
        actor,
        "invitation.created",
        "invitation",
        invitation.id,
        email=email,
        role=role.value,
    )
    return invitation


def list_invitations(
    session: Session, actor: Actor, *, limit: int, cursor: str | None
) -> tuple[list[Invitation], str | None]:
    statement = select(Invitation).where(Invitation.company_id == actor.company_id)
    return paginate(
        session,
        statement,
        (SortKey(Invitation.id, is_uuid=True),),
        limit=limit,
        cursor=cursor,
        key_of=lambda i: (i.id,),
    )


def revoke_invitation(session: Session, actor: Actor, invitation_id: uuid.UUID) -> Invitation:
    actor.require_role(Role.MANAGER, "revoke invitations")
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.company_id != actor.company_id:
        raise not_found("invitation")
    if invitation.accepted_at is not None:
        raise conflict("invitation-used", "This invitation was already accepted.")
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        audit.record(
            session,
            actor,
            "invitation.revoked",
            "invitation",
            invitation.id,
        )
    return invitation


def _redeemable(session: Session, settings: Settings, token: str) -> Invitation:
    """The invitation a token names, if the token is genuine, unexpired, unused and unrevoked."""
    max_age = settings.invitation_ttl_hours * 3600
    payload = signing.unsign(settings.secret(), INVITATION_PURPOSE, token, max_age)
    try:
        invitation_id = uuid.UUID(str(payload.get("i")))
    except ValueError as exc:
        raise Problem(400, "token-invalid", "Invalid token", "This link is not valid.") from exc
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.nonce_hash != token_secrets.digest(str(payload.get("n"))):
        raise Problem(400, "token-invalid", "Invalid token", "This link is not valid.")
    status = invitation.status(utcnow())
    if status == "accepted":
        raise Problem(400, "token-used", "Invitation already used", "This invitation was used.")
    if status == "revoked":
        raise Problem(
            400, "invitation-revoked", "Invitation revoked", "This invitation was withdrawn."
        )
    if status == "expired":
        raise Problem(400, "token-expired", "Token expired", "This invitation has expired.")
    return invitation


def preview(session: Session, settings: Settings, token: str) -> InvitationPreview:
    invitation = _redeemable(session, settings, token)
    company_name = invitation_company_name(session, invitation)
    return InvitationPreview(
        company_name=company_name,
        email=invitation.email,
        role=Role(invitation.role),
        expires_at=invitation.expires_at,
    )


def invitation_company_name(session: Session, invitation: Invitation) -> str:
    company = session.get(Company, invitation.company_id)
    return company.name if company else ""


def accept(session: Session, settings: Settings, data: InvitationAcceptIn) -> User:
    invitation = _redeemable(session, settings, data.token)
    if email_taken(session, invitation.email):
        raise conflict("email-taken", f"{invitation.email} already has a Coterie account.")
    company_name = invitation_company_name(session, invitation)
    passwords.check_strength(
        data.password, "body.password", user_inputs=[invitation.email, data.name, company_name]
    )
    user = User(
        company_id=invitation.company_id,
        email=invitation.email,
        name=data.name,
        password_hash=passwords.hash_password(data.password),
        role=invitation.role,
    )
    session.add(user)
    session.flush()
    invitation.accepted_at = utcnow()
    invitation.accepted_user_id = user.id
    audit.record_as(
        session,
        company_id=invitation.company_id,
        actor_user_id=user.id,
        action="invitation.accepted",
        subject_type="invitation",
        subject_id=invitation.id,
    )
    return user
