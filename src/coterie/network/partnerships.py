"""Partnerships: invite a company, accept, decline, revoke; one open partnership per pair."""

from __future__ import annotations

import uuid
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coterie import audit
from coterie.auth.principal import Actor
from coterie.authz.maintenance import reapply_all_kinds
from coterie.authz.partners import involving
from coterie.config import Settings
from coterie.db import utcnow
from coterie.kit import conditional
from coterie.kit.pagination import SortKey, paginate
from coterie.kit.problems import Problem, conflict, invalid, not_found
from coterie.models import Company, Partnership, User, pair_key
from coterie.models.vocabulary import PartnershipStatus, Role
from coterie.network import hooks
from coterie.network.schemas import CompanyRef, PartnershipOut

ORDER = (SortKey(Partnership.id, is_uuid=True),)


def to_out(p: Partnership, viewer_id: uuid.UUID) -> PartnershipOut:
    def ref(c: Company) -> CompanyRef:
        return CompanyRef(id=c.id, name=c.name, domain=c.domain)

    return PartnershipOut(
        id=p.id,
        status=p.status,
        direction="outgoing" if p.requester_company_id == viewer_id else "incoming",
        partner=ref(p.other_company(viewer_id)),
        requester=ref(p.requester),
        recipient=ref(p.recipient),
        message=p.message,
        created_at=p.created_at,
        responded_at=p.responded_at,
        ended_at=p.ended_at,
    )


def get_for(session: Session, actor: Actor, partnership_id: uuid.UUID) -> Partnership:
    """A partnership the caller's company is a side of; any other answers 404."""
    partnership = session.scalar(
        select(Partnership).where(Partnership.id == partnership_id, involving(actor.company_id))
    )
    if partnership is None:
        raise not_found("partnership")
    return partnership


def list_for(
    session: Session,
    actor: Actor,
    *,
    status: PartnershipStatus | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Partnership], str | None]:
    statement = select(Partnership).where(involving(actor.company_id))
    if status is not None:
        statement = statement.where(Partnership.status == status.value)
    return paginate(session, statement, ORDER, limit=limit, cursor=cursor, key_of=lambda p: (p.id,))


def request(
    session: Session, settings: Settings, actor: Actor, company_id: uuid.UUID, message: str
) -> Partnership:
    actor.require_role(Role.MANAGER, "invite a company to partner")
    if company_id == actor.company_id:
        raise invalid(
            "body.company_id", "is your own company: a company cannot partner with itself"
        )
    target = session.get(Company, company_id)
    if target is None:
        raise invalid("body.company_id", "is not a company on the network", "unknown-company")
    key = pair_key(actor.company_id, company_id)
    existing = session.scalar(
        select(Partnership).where(
            Partnership.pair_key == key,
            Partnership.status.in_([PartnershipStatus.PENDING, PartnershipStatus.ACTIVE]),
        )
    )
    if existing is not None:
        raise conflict(
            "partnership-exists",
            f"There is already a {existing.status} partnership with {target.name}.",
        )
    partnership = Partnership(
        requester_company_id=actor.company_id,
        recipient_company_id=company_id,
        pair_key=key,
        status=PartnershipStatus.PENDING.value,
        message=message,
        requested_by_id=actor.user_id,
    )
    session.add(partnership)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # a concurrent request for the same pair won
        raise conflict(
            "partnership-exists", f"There is already an open partnership with {target.name}."
        ) from exc
    audit.record(
        session,
        actor,
        "partnership.requested",
        "partnership",
        partnership.id,
        partner_id=str(company_id),
    )
    deciders = _deciders(session, company_id)
    _tell(session, actor, partnership, "partnership_invitation", deciders, settings)
    return partnership


def _deciders(session: Session, company_id: uuid.UUID) -> list[uuid.UUID]:
    """Who answers a partnership invitation: the company's active admins and managers."""
    return list(
        session.scalars(
            select(User.id)
            .where(
                User.company_id == company_id,
                User.role.in_([Role.ADMIN.value, Role.MANAGER.value]),
                User.is_active.is_(True),
            )
            .order_by(User.id)
        )
    )


def _tell(
    session: Session,
    actor: Actor,
    partnership: Partnership,
    event: str,
    user_ids: list[uuid.UUID],
    settings: Settings | None = None,
) -> None:
    """In-app notifications (and e-mail, as each user prefers) through `coterie.activity`."""
    session.flush()
    hooks.partnership_notice.announce(
        hooks.PartnershipNotice(session, actor, user_ids, event, partnership.id, settings)
    )


def _answered(session: Session, actor: Actor, partnership: Partnership, event: str) -> None:
    """The inviting person hears the answer (or, if they left, their company's deciders)."""
    inviter = (
        session.get(User, partnership.requested_by_id) if partnership.requested_by_id else None
    )
    if inviter is not None and inviter.is_active:
        recipients = [inviter.id]
    else:
        recipients = _deciders(session, partnership.requester_company_id)
    _tell(session, actor, partnership, event, recipients)


def _respond(session: Session, actor: Actor, partnership_id: uuid.UUID, verb: str) -> Partnership:
    actor.require_role(Role.MANAGER, f"{verb} a partnership")
    partnership = get_for(session, actor, partnership_id)
    if partnership.recipient_company_id != actor.company_id:
        raise Problem(
            403,
            "not-the-invited-company",
            "Not the invited company",
            f"Only {partnership.recipient.name} can {verb} this invitation.",
        )
    if partnership.status != PartnershipStatus.PENDING.value:
        raise conflict(
            "partnership-not-pending", f"This partnership is {partnership.status}, not pending."
        )
    return partnership


def _transition(
    session: Session, partnership: Partnership, expected: str, slug: str, **values: Any
) -> None:
    """`expected` -> `values["status"]` in one conditional UPDATE: of an accept, a decline and a
    withdrawal racing on one invitation exactly one applies; the others are 409."""
    if not conditional.claim_status(session, partnership, [expected], values):
        now = conditional.current_status(session, partnership)
        raise conflict(slug, f"This partnership is {now} now, no longer {expected}.")


def accept(session: Session, actor: Actor, partnership_id: uuid.UUID) -> Partnership:
    partnership = _respond(session, actor, partnership_id, "accept")
    _transition(
        session,
        partnership,
        PartnershipStatus.PENDING.value,
        "partnership-not-pending",
        status=PartnershipStatus.ACTIVE.value,
        responded_at=utcnow(),
        responded_by_id=actor.user_id,
    )
    audit.record(
        session,
        actor,
        "partnership.accepted",
        "partnership",
        partnership.id,
        partner_id=str(partnership.other_company(actor.company_id).id),
    )
    _answered(session, actor, partnership, "partnership_accepted")
    return partnership


def decline(session: Session, actor: Actor, partnership_id: uuid.UUID) -> Partnership:
    partnership = _respond(session, actor, partnership_id, "decline")
    now = utcnow()
    _transition(
        session,
        partnership,
        PartnershipStatus.PENDING.value,
        "partnership-not-pending",
        status=PartnershipStatus.DECLINED.value,
        responded_at=now,
        responded_by_id=actor.user_id,
        ended_at=now,
    )
    audit.record(
        session,
        actor,
        "partnership.declined",
        "partnership",
        partnership.id,
        partner_id=str(partnership.other_company(actor.company_id).id),
    )
    _answered(session, actor, partnership, "partnership_declined")
    return partnership


def revoke(session: Session, actor: Actor, partnership_id: uuid.UUID) -> Partnership:
    """Either side ends an active partnership; the requester may also withdraw a pending one."""
    actor.require_role(Role.MANAGER, "revoke a partnership")
    partnership = get_for(session, actor, partnership_id)
    status = partnership.status
    withdrawing = (
        status == PartnershipStatus.PENDING.value
        and partnership.requester_company_id == actor.company_id
    )
    if status != PartnershipStatus.ACTIVE.value and not withdrawing:
        detail = (
            "A pending invitation is declined by the invited company, not revoked."
            if status == PartnershipStatus.PENDING.value
            else f"This partnership is already {status}."
        )
        raise conflict("partnership-not-revocable", detail)
    _transition(
        session,
        partnership,
        status,
        "partnership-not-revocable",
        status=PartnershipStatus.REVOKED.value,
        ended_at=utcnow(),
        ended_by_company_id=actor.company_id,
    )
    if status == PartnershipStatus.ACTIVE.value:
        # records an auto-share rule shared across this partnership are unshared at once
        session.flush()
        reapply_all_kinds(session, partnership.requester_company_id, actor.user_id)
        reapply_all_kinds(session, partnership.recipient_company_id, actor.user_id)
    audit.record(
        session,
        actor,
        "partnership.revoked",
        "partnership",
        partnership.id,
        partner_id=str(partnership.other_company(actor.company_id).id),
    )
    return partnership


class Counts(NamedTuple):
    """The partnership counters pages show for one company."""

    active: int  # partners
    incoming: int  # invitations waiting for its answer
    outgoing: int  # invitations it sent, waiting for the other side
    ended: int  # declined, withdrawn or ended


def counts(session: Session, actor: Actor) -> Counts:
    """My company's partnership counters, in one statement."""
    me = actor.company_id
    pending = Partnership.status == PartnershipStatus.PENDING.value
    row = session.execute(
        select(
            func.count().filter(Partnership.status == PartnershipStatus.ACTIVE.value),
            func.count().filter(pending & (Partnership.recipient_company_id == me)),
            func.count().filter(pending & (Partnership.requester_company_id == me)),
            func.count().filter(
                Partnership.status.in_(
                    [PartnershipStatus.DECLINED.value, PartnershipStatus.REVOKED.value]
                )
            ),
        ).where(involving(me))
    ).one()
    return Counts(*(int(value or 0) for value in row))
