"""Shared-record use cases: create, read, list, edit the core and my space, participants.

Reads go through `coterie.authz.gate`; writes that change who may read a record refresh its
grants in the same transaction (`coterie.authz.grants`). Nothing here commits.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from coterie import audit
from coterie.auth.principal import Actor
from coterie.authz import gate, grants, rls
from coterie.authz.principal import Principal
from coterie.db import utcnow
from coterie.fields import templates
from coterie.fields.kinds import MOTION_KINDS, ParticipantStatus
from coterie.kit import conditional
from coterie.kit.pagination import SortKey
from coterie.kit.problems import Problem, forbidden, invalid
from coterie.models import Company, Participant, Record, RecordAccess, Space, Template
from coterie.records import hooks, query, search, values
from coterie.records.schemas import (
    CompanyRef,
    ParticipantOut,
    RecordCreate,
    RecordOut,
    RecordPatch,
    SpaceOut,
    check_joint_stage,
)

LIST_ORDER = (SortKey(RecordAccess.record_id, is_uuid=True),)


def _check_account(
    session: Session, principal: Principal, account_id: uuid.UUID | None, path: str
) -> None:
    if account_id is None:
        return
    try:
        gate.check(session, principal, "account", account_id)
    except Problem as exc:
        raise invalid(path, "is not an account you can see") from exc


def _check_motion(kind: str, motion: str | None) -> None:
    if motion is not None and kind not in MOTION_KINDS:
        raise invalid("body.motion", "applies to leads and opportunities only")


def create(session: Session, actor: Actor, kind: str, data: RecordCreate) -> Record:
    principal = actor.principal
    _check_motion(kind, data.motion)
    check_joint_stage(kind, None, data.joint_stage)
    _check_account(session, principal, data.account_id, "body.account_id")
    now = utcnow()
    record = Record(
        kind=kind,
        title=data.title,
        customer_name=data.customer_name,
        customer_domain=data.customer_domain,
        account_id=data.account_id,
        owner_company_id=actor.company_id,
        motion=data.motion,
        description=data.description,
        joint_stage=data.joint_stage,
        created_by_user_id=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(record)
    session.flush()
    session.add(
        Participant(
            record_id=record.id,
            company_id=actor.company_id,
            status=ParticipantStatus.ACTIVE.value,
            invited_by_company_id=actor.company_id,
            invited_by_user_id=actor.user_id,
            invited_at=now,
            responded_at=now,
        )
    )
    space = Space(
        record_id=record.id,
        company_id=actor.company_id,
        custom={},
        updated_by_user_id=actor.user_id,
    )
    template = templates.load(session, actor.company_id, kind)
    values.apply(
        session,
        space,
        template,
        dict(data.fields),
        default_currency=actor.company.currency,
        creating=True,
    )
    hooks.record_creating.announce(hooks.RecordCreating(session, actor, kind, space, record))
    session.add(space)
    search.index_record(session, record, space)
    grants.after_write(session, record.id, kind, acting_user_id=actor.user_id)
    hooks.record_created.announce(hooks.RecordCreated(session, actor, kind, record, space))
    audit.record(session, actor, "record.created", record.kind, record.id)
    return record


def read(session: Session, actor: Actor, kind: str, record_id: uuid.UUID) -> RecordOut:
    principal = actor.principal
    record = gate.check(session, principal, kind, record_id)
    return present(session, actor, principal, kind, [record])[0]


def list_visible(
    session: Session,
    actor: Actor,
    kind: str,
    *,
    limit: int,
    cursor: str | None,
    filter_text: str | None = None,
    sort_text: str | None = None,
) -> tuple[list[RecordOut], str | None]:
    """A page of visible records, filtered and sorted over masked values (`records.query`)."""
    principal = actor.principal
    listing = query.build(session, principal, kind, filter_text=filter_text, sort_text=sort_text)
    rows, next_cursor = listing.page(session, limit=limit, cursor=cursor)
    records = [row[0] for row in rows]
    return present(session, actor, principal, kind, records), next_cursor


def count_visible(session: Session, actor: Actor, kind: str, *, filter_text: str | None) -> int:
    """How many visible records match the filter: the same gate and filter as the list."""
    principal = actor.principal
    return query.build(session, principal, kind, filter_text=filter_text).count(session)


def _names_and_templates(
    session: Session, named: set[uuid.UUID], partners: set[uuid.UUID], kind: str
) -> tuple[dict[uuid.UUID, str], dict[uuid.UUID, templates.CompanyTemplate]]:
    """Names of the `named` companies (network directory data) and the `partners`' templates
    for `kind`, in one statement: the templates' stamps ride along with the names."""
    if not named and not partners:
        return {}, {}
    rows = session.execute(
        select(Company.id, Company.name, *templates.STAMP_COLUMNS)
        .outerjoin(Template, and_(Template.company_id == Company.id, Template.kind == kind))
        .where(Company.id.in_(named | partners))
    ).all()
    names = {row[0]: row[1] for row in rows if row[0] in named}
    stamps: dict[uuid.UUID, templates.Stamp | None] = dict.fromkeys(partners)
    stamps.update(
        (row[0], (row[2], row[3])) for row in rows if row[0] in partners and row[2] is not None
    )
    return names, templates.load_stamped(session, kind, stamps)


def present(
    session: Session, actor: Actor, principal: Principal, kind: str, records: list[Record]
) -> list[RecordOut]:
    """Records as the principal may see them: core, participants, masked spaces."""
    ids = [r.id for r in records]
    own_template = templates.load(session, actor.company_id, kind)
    spaces = gate.spaces(
        session, principal, kind, ids, own_template.own_policy(principal.hide_private)
    )
    people = gate.participants(session, principal, kind, ids)
    names, partner_templates = _names_and_templates(
        session,
        {p.company_id for p in people}
        | {r.source_company_id for r in records if r.source_company_id is not None},
        {s.company_id for s in spaces if not s.is_mine},
        kind,
    )
    by_record_spaces: dict[uuid.UUID, list[SpaceOut]] = {i: [] for i in ids}
    for space in spaces:
        template = own_template if space.is_mine else partner_templates[space.company_id]
        fields: dict[str, Any] = {**space.standard, **space.custom}
        labels = {
            key: (template.by_key[key].label or key) if key in template.by_key else key
            for key in fields
        }
        by_record_spaces[space.record_id].append(
            SpaceOut(
                company_id=space.company_id,
                company_name=names.get(space.company_id, ""),
                is_mine=space.is_mine,
                version=space.version,
                fields=fields,
                labels=labels,
            )
        )
    by_record_people: dict[uuid.UUID, list[ParticipantOut]] = {i: [] for i in ids}
    for p in people:
        by_record_people[p.record_id].append(
            ParticipantOut(
                company_id=p.company_id,
                company_name=names.get(p.company_id, ""),
                status=p.status,
                invited_by_company_id=p.invited_by_company_id,
                invited_at=p.invited_at,
                responded_at=p.responded_at,
                can_admit=p.can_admit,
            )
        )
    return [
        RecordOut(
            id=r.id,
            kind=r.kind,
            title=r.title,
            customer_name=r.customer_name,
            customer_domain=r.customer_domain,
            account_id=r.account_id,
            owner_company_id=r.owner_company_id,
            motion=r.motion,
            description=r.description,
            joint_stage=r.joint_stage,
            source_company=CompanyRef(
                id=r.source_company_id, name=names.get(r.source_company_id, "")
            )
            if r.source_company_id is not None
            else None,
            source_record_id=r.source_record_id,
            version=r.version,
            created_at=r.created_at,
            updated_at=r.updated_at,
            participants=by_record_people[r.id],
            spaces=sorted(by_record_spaces[r.id], key=lambda s: (not s.is_mine, s.company_name)),
        )
        for r in records
    ]


def update_core(
    session: Session,
    actor: Actor,
    kind: str,
    record_id: uuid.UUID,
    patch: RecordPatch,
    expected: int,
) -> Record:
    """Edit the shared core at version `expected` (the client's If-Match): the record is claimed
    by one conditional UPDATE before anything else is written (`kit.conditional`)."""
    principal = actor.principal
    record = gate.require_edit(session, principal, kind, record_id)
    if record.owner_company_id != actor.company_id:
        raise forbidden(
            "Only the owner company edits the shared core; edit your own space instead."
        )
    changes = patch.model_dump(exclude_unset=True)
    if not changes:
        conditional.check_version(record, expected, "record")
        return record
    conditional.claim_version(session, record, expected, "record", rls.as_company(actor.company_id))
    if "motion" in changes:
        _check_motion(kind, changes["motion"])
    if "joint_stage" in changes:
        check_joint_stage(kind, record.joint_stage, changes["joint_stage"])
    if "account_id" in changes:
        if changes["account_id"] == record.id:
            raise invalid("body.account_id", "cannot be the record itself")
        _check_account(session, principal, changes["account_id"], "body.account_id")
    for key in ("title", "customer_name", "description"):
        if key in changes and changes[key] is None:
            raise invalid(f"body.{key}", "cannot be null")
    hooks.core_changing.announce(hooks.CoreChanging(session, actor, record, changes))
    joint_stage_before = record.joint_stage
    for key, value in changes.items():
        setattr(record, key, value)
    hooks.core_changed.announce(hooks.CoreChanged(session, actor, record, joint_stage_before))
    record.updated_at = utcnow()
    search.index_core(session, record)
    grants.after_write(
        session, record.id, kind, acting_user_id=actor.user_id, participants_changed=False
    )
    audit.record(session, actor, "record.updated", record.kind, record.id, fields=sorted(changes))
    return record


def update_my_space(
    session: Session,
    actor: Actor,
    kind: str,
    record_id: uuid.UUID,
    fields: dict[str, Any],
    expected: int,
) -> None:
    """Edit my company's space at version `expected` (the client's If-Match); a change claims
    the space by one conditional UPDATE, a no-op only checks the version."""
    principal = actor.principal
    space = gate.own_space_for_write(session, principal, kind, record_id)
    conditional.check_version(space, expected, "space")
    template = templates.load(session, actor.company_id, kind)
    stage_before = space.stage
    changed = values.apply(
        session, space, template, dict(fields), default_currency=actor.company.currency
    )
    # right after apply, before anything flushes: the change log reads the attribute history
    hooks.space_applied.announce(hooks.SpaceApplied(session, actor, kind, space, changed))
    if changed:
        conditional.claim_version(
            session, space, expected, "space", rls.as_company(actor.company_id)
        )
        space.updated_at = utcnow()
        space.updated_by_user_id = actor.user_id
        hooks.space_changed.announce(hooks.SpaceChanged(session, actor, kind, space, stage_before))
        search.index_space(session, kind, space, changed)
        grants.after_write(
            session,
            record_id,
            kind,
            rule_companies={actor.company_id},
            acting_user_id=actor.user_id,
            participants_changed=False,
        )
        audit.record(
            session,
            actor,
            "space.updated",
            kind,
            record_id,
            fields=changed,
        )
