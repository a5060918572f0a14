"""Deal registration: a company claims an opportunity with another company, which approves it.

Lifecycle: `draft` -> `submitted` -> `approved` | `rejected`; an approved registration whose
`expires_on` has passed reads as `expired` everywhere (computed on read) and
`expire_due` (the `coterie registrations expire` command) persists it. The registering company
renews an approved or expired registration (back to `submitted`, `renewal_count` + 1, at most the
approving company's `max_renewals`); approving a renewal extends the expiry by `renewal_days`.

Who does what: the registering company (an active participant of the opportunity) drafts,
submits and renews; the registered-to company's admins and managers approve or reject. A
registration is visible to exactly its two companies, and only while the gate admits the
opportunity to them: every statement joins `gate.visible_ids` and carries `rls.as_company`. On
the record but not allowed (the wrong company of the two, or a member) is 403; not on the record
is 404. Rows are versioned: a stale `If-Match` is 412; a transition from the wrong status is 409.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from coterie import audit
from coterie.activity import notifications
from coterie.auth.principal import Actor
from coterie.authz import gate, rls
from coterie.authz.guard import UNSAFE
from coterie.authz.partners import partner_ids
from coterie.authz.principal import Principal
from coterie.cosell.pipeline.schemas import (
    RegistrationConflict,
    RegistrationOut,
    RegistrationSettingsIn,
    RegistrationSettingsOut,
    RegistrationStatus,
)
from coterie.db import utcnow
from coterie.fields.kinds import Kind, ParticipantStatus, ProposalStatus
from coterie.kit import conditional
from coterie.kit.pagination import SortKey, paginate
from coterie.kit.problems import conflict, forbidden, invalid, not_found
from coterie.models import Participant, Proposal, Record, User
from coterie.models.pipeline import DealRegistration, RegistrationSettings
from coterie.models.vocabulary import Role
from coterie.network.companies import names as _names
from coterie.records import admission

OPPORTUNITY = Kind.OPPORTUNITY.value
DEFAULTS = RegistrationSettingsOut(expiry_days=90, renewal_days=90, max_renewals=2, version=0)
OPEN = (RegistrationStatus.DRAFT.value, RegistrationStatus.SUBMITTED.value)


def today() -> date:
    return utcnow().date()


def effective_status(registration: DealRegistration, on: date) -> RegistrationStatus:
    if (
        registration.status == RegistrationStatus.APPROVED.value
        and registration.expires_on is not None
        and registration.expires_on < on
    ):
        return RegistrationStatus.EXPIRED
    return RegistrationStatus(registration.status)


def _status_filter(status: RegistrationStatus, on: date) -> ColumnElement[bool]:
    approved = DealRegistration.status == RegistrationStatus.APPROVED.value
    lapsed = and_(DealRegistration.expires_on.is_not(None), DealRegistration.expires_on < on)
    if status == RegistrationStatus.EXPIRED:
        return or_(DealRegistration.status == status.value, and_(approved, lapsed))
    if status == RegistrationStatus.APPROVED:
        return and_(approved, ~lapsed)
    return DealRegistration.status == status.value


# -- settings ---------------------------------------------------------------------------------


def settings_of(session: Session, company_id: uuid.UUID) -> RegistrationSettingsOut:
    row = session.get(RegistrationSettings, company_id)
    if row is None:
        return DEFAULTS
    return RegistrationSettingsOut(
        expiry_days=row.expiry_days,
        renewal_days=row.renewal_days,
        max_renewals=row.max_renewals,
        version=row.version,
    )


def save_settings(
    session: Session, actor: Actor, data: RegistrationSettingsIn, expected: int
) -> RegistrationSettingsOut:
    actor.require_role(Role.ADMIN, "change deal registration settings")
    row = conditional.claim_singleton(
        session,
        session.get(RegistrationSettings, actor.company_id),
        expected,
        "registration settings",
        lambda: RegistrationSettings(company_id=actor.company_id, version=1),
    )
    row.expiry_days = data.expiry_days
    row.renewal_days = data.renewal_days
    row.max_renewals = data.max_renewals
    row.updated_at = utcnow()
    row.updated_by_user_id = actor.user_id
    audit.record(
        session,
        actor,
        "registration_settings.updated",
        "company",
        actor.company_id,
        **data.model_dump(),
    )
    session.flush()
    return settings_of(session, actor.company_id)


# -- reading ----------------------------------------------------------------------------------


def _mine(principal: Principal) -> ColumnElement[bool]:
    return or_(
        DealRegistration.registering_company_id == principal.company_id,
        DealRegistration.registered_to_company_id == principal.company_id,
    )


def _visible(principal: Principal) -> Any:
    """Registrations of my company (either side) on opportunities the gate admits to me."""
    return (
        select(DealRegistration)
        .where(
            _mine(principal),
            DealRegistration.record_id.in_(gate.visible_ids(principal, OPPORTUNITY)),
        )
        .execution_options(**rls.as_company(principal.company_id))
    )


def _load(session: Session, principal: Principal, registration_id: uuid.UUID) -> DealRegistration:
    found: DealRegistration | None = session.scalars(
        _visible(principal).where(DealRegistration.id == registration_id)
    ).first()
    if found is None:
        raise not_found("deal registration")
    return found


def _records(
    session: Session, principal: Principal, ids: set[uuid.UUID]
) -> dict[uuid.UUID, Record]:
    if not ids:
        return {}
    statement = gate.visible(principal, OPPORTUNITY).where(Record.id.in_(ids))
    return {r.id: r for r in session.scalars(statement)}


def _conflicts(
    session: Session, principal: Principal, registration: DealRegistration, record: Record
) -> list[RegistrationConflict]:
    """For the approver: other registrations at my company on records (that I may see) with the
    same customer domain."""
    if not record.customer_domain:
        return []
    statement = (
        select(DealRegistration, Record)
        .join(Record, Record.id == DealRegistration.record_id)
        .where(
            DealRegistration.registered_to_company_id == principal.company_id,
            DealRegistration.id != registration.id,
            DealRegistration.status != RegistrationStatus.DRAFT.value,
            Record.customer_domain == record.customer_domain,
            DealRegistration.record_id.in_(gate.visible_ids(principal, OPPORTUNITY)),
        )
        .order_by(DealRegistration.id)
        .limit(20)
        .execution_options(**rls.as_company(principal.company_id))
    )
    rows = session.execute(statement).all()
    names = _names(session, {r.registering_company_id for r, _ in rows})
    on = today()
    return [
        RegistrationConflict(
            id=other.id,
            record_id=other.record_id,
            title=other_record.title,
            registering_company_name=names.get(other.registering_company_id, ""),
            status=effective_status(other, on),
            expires_on=other.expires_on,
        )
        for other, other_record in rows
    ]


def present(
    session: Session, principal: Principal, found: list[DealRegistration]
) -> list[RegistrationOut]:
    by_record = _records(session, principal, {r.record_id for r in found})
    names = _names(
        session,
        {r.registering_company_id for r in found} | {r.registered_to_company_id for r in found},
    )
    limits = {
        company_id: settings_of(session, company_id).max_renewals
        for company_id in {r.registered_to_company_id for r in found}
    }
    on = today()
    out: list[RegistrationOut] = []
    for registration in found:
        record = by_record.get(registration.record_id)
        if record is None:  # not visible any more: never shown
            continue
        approver = registration.registered_to_company_id == principal.company_id
        out.append(
            RegistrationOut(
                id=registration.id,
                record_id=registration.record_id,
                record_title=record.title,
                customer_name=record.customer_name,
                customer_domain=record.customer_domain,
                registering_company_id=registration.registering_company_id,
                registering_company_name=names.get(registration.registering_company_id, ""),
                registered_to_company_id=registration.registered_to_company_id,
                registered_to_company_name=names.get(registration.registered_to_company_id, ""),
                status=effective_status(registration, on),
                notes=registration.notes,
                reason=registration.reason,
                created_at=registration.created_at,
                submitted_at=registration.submitted_at,
                decided_at=registration.decided_at,
                approved_at=registration.approved_at,
                expires_on=registration.expires_on,
                renewal_count=registration.renewal_count,
                renewals_left=max(
                    0, limits[registration.registered_to_company_id] - registration.renewal_count
                ),
                version=registration.version,
                conflicts=_conflicts(session, principal, registration, record) if approver else [],
            )
        )
    return out


def read(session: Session, actor: Actor, registration_id: uuid.UUID) -> RegistrationOut:
    principal = actor.principal
    return present(session, principal, [_load(session, principal, registration_id)])[0]


def for_opportunity(
    session: Session, actor: Actor, opportunity_id: uuid.UUID
) -> list[RegistrationOut]:
    principal = actor.principal
    gate.check(session, principal, OPPORTUNITY, opportunity_id)
    found = session.scalars(
        _visible(principal)
        .where(DealRegistration.record_id == opportunity_id)
        .order_by(DealRegistration.id)
    ).all()
    return present(session, principal, list(found))


def list_mine(
    session: Session,
    actor: Actor,
    *,
    role: str | None,
    status: RegistrationStatus | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[RegistrationOut], str | None]:
    principal = actor.principal
    statement = _visible(principal)
    if role == "registering":
        statement = statement.where(DealRegistration.registering_company_id == actor.company_id)
    elif role == "registered_to":
        statement = statement.where(DealRegistration.registered_to_company_id == actor.company_id)
    if status is not None:
        statement = statement.where(_status_filter(status, today()))
    keys = (SortKey(DealRegistration.id, is_uuid=True),)
    found, next_cursor = paginate(
        session, statement, keys, limit=limit, cursor=cursor, key_of=lambda r: (r.id,)
    )
    return present(session, principal, list(found)), next_cursor


# -- writing ----------------------------------------------------------------------------------


def _claim(session: Session, actor: Actor, registration: DealRegistration, expected: int) -> None:
    """Take the registration at version `expected` (If-Match) before its status is checked:
    every transition claims it so, and of racing ones exactly one finds the status it needs."""
    conditional.claim_version(
        session, registration, expected, "deal registration", rls.as_company(actor.company_id)
    )
    registration.updated_at = utcnow()


def create(
    session: Session,
    actor: Actor,
    opportunity_id: uuid.UUID,
    registered_to_company_id: uuid.UUID,
    notes: str,
) -> DealRegistration:
    principal = actor.principal
    gate.require_edit(session, principal, OPPORTUNITY, opportunity_id)
    path = "body.registered_to_company_id"
    if registered_to_company_id == actor.company_id:
        raise invalid(path, "is your own company")
    if registered_to_company_id not in partner_ids(session, actor.company_id):
        raise invalid(path, "is not an accepted partner of your company", "not-a-partner")
    on = today()
    for other in session.scalars(
        _visible(principal).where(
            DealRegistration.record_id == opportunity_id,
            DealRegistration.registering_company_id == actor.company_id,
            DealRegistration.registered_to_company_id == registered_to_company_id,
        )
    ):
        status = effective_status(other, on)
        if status.value in OPEN or status == RegistrationStatus.APPROVED:
            raise conflict(
                "registration-exists",
                f"Your company already has a {status.value} registration of this opportunity "
                "with that company; renew or withdraw it instead.",
            )
    registration = DealRegistration(
        record_id=opportunity_id,
        registering_company_id=actor.company_id,
        registered_to_company_id=registered_to_company_id,
        status=RegistrationStatus.DRAFT.value,
        notes=notes,
        reason="",
        created_by_user_id=actor.user_id,
        renewal_count=0,
        version=1,
    )
    session.add(registration)
    session.flush()
    audit.record(
        session,
        actor,
        "registration.drafted",
        "deal_registration",
        registration.id,
        record=str(registration.record_id),
        status=registration.status,
    )
    return registration


def _as_registering(session: Session, actor: Actor, registration_id: uuid.UUID) -> DealRegistration:
    principal = actor.principal
    registration = _load(session, principal, registration_id)
    if registration.registering_company_id != actor.company_id:
        raise forbidden("Only the registering company submits or renews this registration.")
    return registration


def _invite_approver(session: Session, actor: Actor, registration: DealRegistration) -> None:
    """The registered-to company must be on the opportunity to see and approve it: invited when
    the registering company may admit companies, else proposed to the owner, who decides."""
    participant = session.scalars(
        select(Participant)
        .where(
            Participant.record_id == registration.record_id,
            Participant.company_id == registration.registered_to_company_id,
            Participant.record_id.in_(gate.visible_ids(actor.principal, OPPORTUNITY)),
        )
        .execution_options(**rls.as_company(actor.company_id))
    ).first()
    if participant is not None and participant.status in (
        ParticipantStatus.INVITED.value,
        ParticipantStatus.ACTIVE.value,
    ):
        return
    pending = session.scalars(
        select(Proposal.id)
        .where(
            Proposal.record_id == registration.record_id,
            Proposal.company_id == registration.registered_to_company_id,
            Proposal.proposed_by_company_id == actor.company_id,
            Proposal.status == ProposalStatus.PENDING.value,
        )
        .execution_options(**rls.as_company(actor.company_id))
    ).first()
    if pending is not None:  # a renewal while the owner has not decided yet
        return
    admission.invite(
        session,
        actor,
        OPPORTUNITY,
        registration.record_id,
        registration.registered_to_company_id,
        note="To approve a deal registration",
        source="registration",
    )


def submit(
    session: Session, actor: Actor, registration_id: uuid.UUID, expected: int
) -> DealRegistration:
    registration = _as_registering(session, actor, registration_id)
    _claim(session, actor, registration, expected)
    if registration.status != RegistrationStatus.DRAFT.value:
        raise conflict(
            "invalid-transition",
            f"Only a draft is submitted; this registration is {registration.status}.",
        )
    registration.status = RegistrationStatus.SUBMITTED.value
    registration.submitted_at = utcnow()
    _invite_approver(session, actor, registration)
    audit.record(
        session,
        actor,
        "registration.submitted",
        "deal_registration",
        registration.id,
        record=str(registration.record_id),
        status=registration.status,
    )
    _notify_approvers(session, actor, registration)
    return registration


def renew(
    session: Session, actor: Actor, registration_id: uuid.UUID, expected: int
) -> DealRegistration:
    registration = _as_registering(session, actor, registration_id)
    _claim(session, actor, registration, expected)
    status = effective_status(registration, today())
    if status not in (RegistrationStatus.APPROVED, RegistrationStatus.EXPIRED):
        raise conflict(
            "invalid-transition",
            f"Only an approved or expired registration is renewed; this one is {status.value}.",
        )
    limit = settings_of(session, registration.registered_to_company_id).max_renewals
    if registration.renewal_count >= limit:
        raise conflict(
            "renewal-limit",
            f"This registration was renewed {registration.renewal_count} times, the most "
            "the approving company allows; register again instead.",
        )
    registration.status = RegistrationStatus.SUBMITTED.value
    registration.renewal_count += 1
    registration.submitted_at = utcnow()
    _invite_approver(session, actor, registration)
    audit.record(
        session,
        actor,
        "registration.renewal_requested",
        "deal_registration",
        registration.id,
        record=str(registration.record_id),
        status=registration.status,
    )
    _notify_approvers(session, actor, registration)
    return registration


def _as_approver(session: Session, actor: Actor, registration_id: uuid.UUID) -> DealRegistration:
    principal = actor.principal
    registration = _load(session, principal, registration_id)
    if registration.registered_to_company_id != actor.company_id:
        raise forbidden("Only the company the deal is registered with approves or rejects it.")
    if not actor.has_role(Role.MANAGER):
        raise forbidden("Only an admin or a manager approves or rejects deal registrations.")
    return registration


def _decide(
    session: Session,
    actor: Actor,
    registration_id: uuid.UUID,
    reason: str,
    expected: int,
    approve: bool,
) -> DealRegistration:
    registration = _as_approver(session, actor, registration_id)
    _claim(session, actor, registration, expected)
    if registration.status != RegistrationStatus.SUBMITTED.value:
        raise conflict(
            "invalid-transition",
            f"Only a submitted registration is decided; this one is "
            f"{effective_status(registration, today()).value}.",
        )
    now = utcnow()
    registration.decided_at = now
    registration.decided_by_user_id = actor.user_id
    registration.reason = reason
    if approve:
        rules = settings_of(session, actor.company_id)
        on = now.date()
        if registration.renewal_count == 0 or registration.expires_on is None:
            registration.expires_on = on + timedelta(days=rules.expiry_days)
        else:
            registration.expires_on = max(on, registration.expires_on) + timedelta(
                days=rules.renewal_days
            )
        registration.status = RegistrationStatus.APPROVED.value
        registration.approved_at = now
    else:
        registration.status = RegistrationStatus.REJECTED.value
    audit.record(
        session,
        actor,
        "registration.approved" if approve else "registration.rejected",
        "deal_registration",
        registration.id,
        record=str(registration.record_id),
        status=registration.status,
    )
    if registration.created_by_user_id is not None:
        notifications.notify(
            session,
            user_ids=[registration.created_by_user_id],
            event="registration_decided",
            record_id=registration.record_id,
            kind="opportunity",
            actor=actor,
            subject_id=registration.id,
        )
    return registration


def _notify_approvers(session: Session, actor: Actor, registration: DealRegistration) -> None:
    """Tell the registered-to company's admins and managers; `notify` keeps those who may see
    the opportunity (a company that has not accepted the invitation yet finds it in its inbox)."""
    approvers = session.scalars(
        select(User.id).where(
            User.company_id == registration.registered_to_company_id,
            User.is_active.is_(True),
            User.role.in_([Role.ADMIN.value, Role.MANAGER.value]),
        )
    )
    notifications.notify(
        session,
        user_ids=list(approvers),
        event="registration",
        record_id=registration.record_id,
        kind="opportunity",
        actor=actor,
        subject_id=registration.id,
    )


def approve(
    session: Session, actor: Actor, registration_id: uuid.UUID, reason: str, expected: int
) -> DealRegistration:
    return _decide(session, actor, registration_id, reason, expected, approve=True)


def reject(
    session: Session, actor: Actor, registration_id: uuid.UUID, reason: str, expected: int
) -> DealRegistration:
    return _decide(session, actor, registration_id, reason, expected, approve=False)


# -- maintenance ------------------------------------------------------------------------------


def expire_due(session: Session, on: date | None = None) -> int:
    """Persist `expired` on approved registrations whose expiry has passed (idempotent).

    Maintenance on behalf of both companies, outside any request: it reads no record and shows
    nothing to anyone, so it runs in the system scope."""
    on = on or today()
    with rls.unsafe_system_scope(session):
        # one conditional UPDATE: a registration renewed meanwhile is no longer approved
        lapsed = session.execute(
            update(DealRegistration)
            .where(
                DealRegistration.status == RegistrationStatus.APPROVED.value,
                DealRegistration.expires_on.is_not(None),
                DealRegistration.expires_on < on,
            )
            .values(
                status=RegistrationStatus.EXPIRED.value,
                version=DealRegistration.version + 1,
                updated_at=utcnow(),
            )
            .returning(
                DealRegistration.id,
                DealRegistration.record_id,
                DealRegistration.registered_to_company_id,
                DealRegistration.expires_on,
            )
            .execution_options(synchronize_session=False, **UNSAFE)
        ).all()
        for registration_id, record_id, company_id, expires_on in lapsed:
            audit.record_as(
                session,
                company_id=company_id,
                actor_user_id=None,
                action="registration.expired",
                subject_type="deal_registration",
                subject_id=registration_id,
                record=str(record_id),
                expires_on=str(expires_on),
            )
        session.flush()
    return len(lapsed)
