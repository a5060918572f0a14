"""Invite by e-mail: send, read back, revoke, and redeem at signup.

- **Send.** An address whose company is on the network (an account with that address, else a
  company whose domain is the address's domain or a parent of it) becomes a normal invitation of
  that company: a partnership request (`network.partnerships`) or a record invitation, or a
  proposal when my company may not admit (`records.admission`: the owner decides). Any other
  address gets a pending `EmailInvite` and an e-mail (through the outbox) with a link signed
  with the secret key; the row keeps only the nonce's digest. Onto a record, only a company
  that may admit (the owner, or its delegate) invites someone new: nobody else can propose a
  company that does not exist yet.
- **Limits.** A company sends at most `email_invites_per_day` invitations by e-mail in 24 hours
  (429 beyond). A link works until `email_invite_ttl_days`, once; a new invitation to the same
  address and target replaces the earlier link; revoking kills it.
- **Redeem.** Signing up from the link creates the company and its first admin (with the
  invited address, locked) and, in the same transaction, claims the invitation in one
  conditional UPDATE (two racing signups: one wins), then invites the new company as the
  inviting person would now: a pending partnership, or a record invitation whose view shows only
  the title, the customer and who invited. If the inviter may no longer do that, the company
  still joins the network and is told so.

Nothing here commits.
"""

from __future__ import annotations

import secrets as random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from coterie import audit
from coterie.auth import secrets as token_secrets
from coterie.auth import signing
from coterie.auth.principal import Actor, background_actor, principal_of
from coterie.auth.service import normalize_email
from coterie.authz import gate
from coterie.config import Settings
from coterie.db import utcnow
from coterie.fields.kinds import KINDS, Kind
from coterie.invites.schemas import EmailInviteIn
from coterie.kit.problems import Problem, forbidden, invalid, not_found
from coterie.mail import delivery, messages
from coterie.models import Company, EmailInvite, Partnership, User
from coterie.models.vocabulary import Role
from coterie.network import partnerships
from coterie.network import signup as signup_service
from coterie.network.schemas import SignupIn
from coterie.records import admission
from coterie.records.admission import Admission

PURPOSE = "email-invite"
TOPIC = "network_invite"
LIST_LIMIT = 200


@dataclass(frozen=True)
class Sent:
    """What an invitation by e-mail did: a pending invitation by e-mail (`invite`), or, the
    address's company being on the network, a partnership request or a record admission."""

    invite: EmailInvite | None = None
    partnership: Partnership | None = None
    admission: Admission | None = None
    company_name: str = ""


def day(value: datetime) -> str:
    """The one date format of the product: "21 Jan 2027"."""
    return f"{value.day} {value:%b %Y}"


def _label(kind: str) -> str:
    return KINDS[Kind(kind)].label.lower()


# -- whose address is it ------------------------------------------------------------------------


def company_of(session: Session, email: str) -> Company | None:
    """The company on the network an address belongs to: its user's, else the company whose
    domain is the address's domain or the nearest parent of it (`eu.acme.com` -> `acme.com`)."""
    user = session.scalar(select(User).where(User.email == email))
    if user is not None:
        return user.company
    labels = email.rpartition("@")[2].split(".")
    candidates = [".".join(labels[i:]) for i in range(len(labels) - 1)]
    found = {
        c.domain: c for c in session.scalars(select(Company).where(Company.domain.in_(candidates)))
    }
    return next((found[d] for d in candidates if d in found), None)


# -- send ---------------------------------------------------------------------------------------


def to_partnership(session: Session, settings: Settings, actor: Actor, data: EmailInviteIn) -> Sent:
    actor.require_role(Role.MANAGER, "invite a company to partner")
    email = normalize_email(str(data.email))
    company = company_of(session, email)
    if company is not None:
        if company.id == actor.company_id:
            raise invalid(
                "body.email",
                "belongs to your own company: invite colleagues from Settings, Users",
                "own-company",
            )
        found = partnerships.request(session, settings, actor, company.id, data.message)
        return Sent(partnership=found, company_name=company.name)
    what = f"partner with {actor.company.name}"
    return Sent(invite=_create(session, settings, actor, data, email, what, None, None))


def to_record(
    session: Session,
    settings: Settings,
    actor: Actor,
    kind: str,
    record_id: uuid.UUID,
    data: EmailInviteIn,
) -> Sent:
    principal = actor.principal
    record = gate.require_edit(session, principal, kind, record_id)  # 404 hidden, 403 read-only
    email = normalize_email(str(data.email))
    company = company_of(session, email)
    if company is not None:
        if company.id == actor.company_id:
            raise invalid("body.email", "belongs to your own company", "own-company")
        asked = admission.invite(session, actor, kind, record_id, company.id, note=data.message)
        return Sent(admission=asked, company_name=company.name)
    if not admission.admits(session, principal, record):
        raise forbidden(
            "Only the record's owner (or a company it lets admit others) invites someone new by "
            "e-mail; you can propose a partner company that is already on Coterie."
        )
    what = f"join the {_label(kind)} “{record.title}” with {actor.company.name}"
    return Sent(invite=_create(session, settings, actor, data, email, what, kind, record_id))


def _check_quota(session: Session, settings: Settings, company_id: uuid.UUID) -> None:
    since = utcnow() - timedelta(days=1)
    sent = session.scalar(
        select(func.count())
        .select_from(EmailInvite)
        .where(EmailInvite.company_id == company_id, EmailInvite.created_at > since)
    )
    limit = settings.email_invites_per_day
    if int(sent or 0) >= limit:
        raise Problem(
            429,
            "invite-limit",
            "Too many invitations",
            f"Your company sent {limit} invitations by e-mail in the last 24 hours, the most "
            "allowed. Try again tomorrow, or invite companies already on Coterie from the "
            "directory.",
        )


def _create(
    session: Session,
    settings: Settings,
    actor: Actor,
    data: EmailInviteIn,
    email: str,
    what: str,
    kind: str | None,
    record_id: uuid.UUID | None,
) -> EmailInvite:
    _check_quota(session, settings, actor.company_id)
    now = utcnow()
    session.execute(  # a new invitation to the same address and target replaces the old link
        update(EmailInvite)
        .where(
            EmailInvite.company_id == actor.company_id,
            EmailInvite.email == email,
            EmailInvite.record_id.is_(None)
            if record_id is None
            else EmailInvite.record_id == record_id,
            EmailInvite.accepted_at.is_(None),
            EmailInvite.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    nonce = random.token_urlsafe(16)
    invite = EmailInvite(
        company_id=actor.company_id,
        invited_by_user_id=actor.user_id,
        email=email,
        name=data.name,
        company_name=data.company_name,
        message=data.message,
        target="partnership" if record_id is None else "record",
        record_id=record_id,
        kind=kind,
        nonce_hash=token_secrets.digest(nonce),
        created_at=now,
        expires_at=now + timedelta(days=settings.email_invite_ttl_days),
    )
    session.add(invite)
    session.flush()
    token = signing.sign(settings.secret(), PURPOSE, {"i": invite.id.hex, "n": nonce})
    link = f"{settings.resolved_base_url.rstrip('/')}/invites/accept?token={token}"
    delivery.queue(
        session,
        messages.network_invite(
            email,
            data.name,
            actor.user.name,
            actor.company.name,
            what,
            data.message,
            link,
            day(invite.expires_at),
        ),
        topic=TOPIC,
        company_id=actor.company_id,
        key=f"{TOPIC}:{invite.id}",
    )
    audit.record(
        session,
        actor,
        "email_invite.created",
        "email_invite",
        invite.id,
        email=email,
        target=invite.target,
        record=str(record_id) if record_id else None,
    )
    return invite


# -- the inviting company's list, and revoking --------------------------------------------------


def sent_by_my_company(session: Session, actor: Actor) -> list[EmailInvite]:
    """My company's invitations by e-mail, newest first (pending ones are revocable)."""
    return list(
        session.scalars(
            select(EmailInvite)
            .where(EmailInvite.company_id == actor.company_id)
            .order_by(EmailInvite.created_at.desc(), EmailInvite.id)
            .limit(LIST_LIMIT)
        )
    )


def revoke(session: Session, actor: Actor, invite_id: uuid.UUID) -> EmailInvite:
    """A pending invitation of my company is withdrawn: its link is dead from now on."""
    invite = session.get(EmailInvite, invite_id)
    if invite is None or invite.company_id != actor.company_id:
        raise not_found("invitation")
    if invite.invited_by_user_id != actor.user_id:
        actor.require_role(Role.MANAGER, "withdraw a colleague's invitation")
    status = invite.status(utcnow())
    if status != "pending":
        raise Problem(409, "invite-not-pending", "Conflict", f"This invitation is {status}.")
    now = utcnow()
    result = session.execute(
        update(EmailInvite)
        .where(
            EmailInvite.id == invite.id,
            EmailInvite.accepted_at.is_(None),
            EmailInvite.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise Problem(409, "invite-not-pending", "Conflict", "This invitation was just used.")
    session.refresh(invite)
    audit.record(session, actor, "email_invite.revoked", "email_invite", invite.id)
    return invite


# -- redeem -------------------------------------------------------------------------------------


def _link_problem(slug: str, title: str, detail: str) -> Problem:
    return Problem(400, slug, title, detail)


def redeemable(session: Session, settings: Settings, token: str) -> EmailInvite:
    """The invitation a link names, if the link is genuine, unexpired, unused and unrevoked;
    otherwise 400 saying which (the page says what to do next)."""
    max_age = settings.email_invite_ttl_days * 86400
    try:
        payload = signing.unsign(settings.secret(), PURPOSE, token, max_age)
    except Problem as problem:
        if problem.slug == "token-expired":
            raise _link_problem(
                "token-expired", "Invitation expired", "This invitation link has expired."
            ) from problem
        raise _link_problem(
            "token-invalid", "Invalid invitation link", "This invitation link is not valid."
        ) from problem
    try:
        invite_id = uuid.UUID(str(payload.get("i")))
    except ValueError as exc:
        raise _link_problem(
            "token-invalid", "Invalid invitation link", "This invitation link is not valid."
        ) from exc
    invite = session.get(EmailInvite, invite_id)
    if invite is None or invite.nonce_hash != token_secrets.digest(str(payload.get("n"))):
        raise _link_problem(
            "token-invalid", "Invalid invitation link", "This invitation link is not valid."
        )
    status = invite.status(utcnow())
    if status == "accepted":
        raise _link_problem(
            "token-used", "Invitation already used", "This invitation was used to sign up already."
        )
    if status == "revoked":
        raise _link_problem(
            "invitation-revoked", "Invitation withdrawn", "This invitation was withdrawn."
        )
    if status == "expired":
        raise _link_problem(
            "token-expired", "Invitation expired", "This invitation link has expired."
        )
    return invite


@dataclass(frozen=True)
class Preview:
    """What the signup page shows of a valid link: who invites, to what; never a field."""

    invite: EmailInvite
    inviter_name: str
    inviter_company: str
    what: str
    suggested_domain: str
    suggested_company: str


def _inviter(session: Session, invite: EmailInvite) -> User | None:
    user = session.get(User, invite.invited_by_user_id) if invite.invited_by_user_id else None
    if user is None or not user.is_active or user.company_id != invite.company_id:
        return None
    return user


def _what(session: Session, invite: EmailInvite, inviter: User | None, company: str) -> str:
    """What the invitation is to, as the inviter may show it now (the record's title through
    the gate as the inviter: the title is what every invited company sees)."""
    if invite.target == "partnership" or invite.kind is None or invite.record_id is None:
        return f"partner with {company}"
    label = _label(invite.kind)
    if inviter is not None:
        principal = principal_of(session, inviter)
        try:
            record = gate.check(session, principal, invite.kind, invite.record_id)
        except Problem:
            record = None
        if record is not None:
            return f"join the {label} “{record.title}” with {company}"
    return f"join a shared {label} with {company}"


def preview(session: Session, settings: Settings, token: str) -> Preview:
    invite = redeemable(session, settings, token)
    inviter = _inviter(session, invite)
    company = session.get(Company, invite.company_id)
    company_name = company.name if company is not None else "a company"
    domain = invite.email.rpartition("@")[2]
    return Preview(
        invite=invite,
        inviter_name=inviter.name if inviter is not None else "Someone",
        inviter_company=company_name,
        what=_what(session, invite, inviter, company_name),
        suggested_domain=domain,
        suggested_company=invite.company_name or domain.split(".")[0].capitalize(),
    )


@dataclass(frozen=True)
class Joined:
    company: Company
    user: User
    url: str  # where the new company lands
    message: str


def accept(session: Session, settings: Settings, token: str, data: SignupIn) -> Joined:
    """Sign up the invitee's company from the link and invite it as the inviter would now."""
    invite = redeemable(session, settings, token)
    if normalize_email(str(data.user.email)) != invite.email:
        raise invalid("body.user.email", f"must be the invited address {invite.email}")
    company, user = signup_service.signup(session, settings, data)
    claimed = session.execute(
        update(EmailInvite)
        .where(
            EmailInvite.id == invite.id,
            EmailInvite.accepted_at.is_(None),
            EmailInvite.revoked_at.is_(None),
        )
        .values(accepted_at=utcnow(), accepted_company_id=company.id)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        raise _link_problem(
            "token-used", "Invitation already used", "This invitation was used to sign up already."
        )
    audit.record_as(
        session,
        company_id=invite.company_id,
        actor_user_id=invite.invited_by_user_id,
        action="email_invite.accepted",
        subject_type="email_invite",
        subject_id=invite.id,
        company=str(company.id),
    )
    welcome = f"Welcome to Coterie! {company.name} is now on the network."
    inviter = _inviter(session, invite)
    origin = session.get(Company, invite.company_id)
    origin_name = origin.name if origin is not None else "The inviting company"
    if inviter is None:
        return Joined(company, user, "/", f"{welcome} {origin_name}'s invitation has lapsed.")
    # the inviter's earlier decision, carried out now (no credential is created)
    acting = background_actor(session, inviter, "invite")
    try:
        with session.begin_nested():
            if invite.target == "partnership":
                partnerships.request(session, settings, acting, company.id, invite.message)
                return Joined(
                    company,
                    user,
                    "/network",
                    f"{welcome} {origin_name}'s partnership invitation is waiting for you below.",
                )
            kind, record_id = invite.kind or "", invite.record_id or uuid.UUID(int=0)
            asked = admission.invite(session, acting, kind, record_id, company.id)
    except Problem:
        return Joined(
            company,
            user,
            "/",
            f"{welcome} {origin_name} can no longer invite you onto what it shared; ask "
            f"{inviter.name} to invite {company.name} again.",
        )
    if asked.proposed:
        return Joined(
            company,
            user,
            "/",
            f"{welcome} {origin_name} proposed {company.name} to the record's owner, who decides.",
        )
    plural = KINDS[Kind(kind)].plural
    return Joined(
        company,
        user,
        f"/{plural}/{invite.record_id}",
        f"{welcome} Here is {origin_name}'s invitation: accept it to see what is shared.",
    )
