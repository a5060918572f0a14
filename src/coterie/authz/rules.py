"""Compiling access rules into grants and participants.

Visibility rules: for a company in per-user mode for a kind, every non-admin user's grant rows
(`record_access` with principal = user) are the records some enabled rule grants them, plus the
records they created or own. Admins read the company-wide rows, which exist for every record the
company actively participates in (see `grants.refresh_record`).

Auto-share rules: a matching record gets the rule's partner companies invited (source = the rule)
when the rule's company owns the record or may admit to it; on anyone else's record the rule only
proposes them to the owner (`record_proposals`, DESIGN must 8).
When a rule stops matching (or is edited or deleted), the companies it invited are removed from
records it no longer covers, and invited again if the record matches again. A company that left,
declined or was removed by a person (source "manual") is never invited again by a rule.

One code path computes matches in SQL (`conditions.to_sql`), for one record or for all of a
company's records, so single-record writes and bulk rule changes agree by construction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Uuid, and_, bindparam, delete, func, insert, literal, or_, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from coterie.authz import conditions, rls
from coterie.authz.catalog import catalog, columns
from coterie.authz.guard import GATE
from coterie.authz.partners import partner_ids
from coterie.authz.principal import AUTO_SHARE, COMPANY_WIDE, VISIBILITY, company_rules
from coterie.db import utcnow
from coterie.fields import templates
from coterie.fields.kinds import ParticipantStatus, ProposalStatus
from coterie.kit import txcache
from coterie.models import (
    AccessRule,
    Participant,
    Proposal,
    Record,
    RecordAccess,
    Space,
    TeamMember,
    User,
)
from coterie.models.vocabulary import Role

CHUNK = 5000  # ids per IN list
# what rule conditions read: records, the company's spaces and its own participation
txcache.register("rule_matches", Record, Space, Participant)


@dataclass(frozen=True)
class CompiledRule:
    rule: AccessRule
    condition: conditions.Condition


def enabled_rules(
    session: Session, company_id: uuid.UUID, kind: str, type_: str
) -> list[CompiledRule]:
    rules = [r for r in company_rules(session, company_id) if r.kind == kind and r.type == type_]
    if not rules:
        return []
    template = templates.load(session, company_id, kind)
    return [
        CompiledRule(rule, conditions.parse(rule.condition, catalog(template), path="condition"))
        for rule in rules
    ]


def matching(
    session: Session,
    company_id: uuid.UUID,
    kind: str,
    condition: conditions.Condition,
    record_ids: Iterable[uuid.UUID] | None = None,
) -> set[uuid.UUID]:
    """Records of `kind` the company actively participates in that match `condition`,
    evaluated over the shared core and the company's own space. The answer over all records is
    kept for the transaction (a rule change checks its reach, then applies it)."""
    memo = txcache.cache(session, "rule_matches") if record_ids is None else None
    key = (company_id, kind, condition.model_dump_json())
    if memo is not None and key in memo:
        return set(memo[key])
    template = templates.load(session, company_id, kind)
    statement = (
        select(Record.id)
        .join(
            Participant,
            and_(
                Participant.record_id == Record.id,
                Participant.company_id == company_id,
                Participant.status == ParticipantStatus.ACTIVE.value,
            ),
        )
        .join(Space, and_(Space.record_id == Record.id, Space.company_id == company_id))
        .where(Record.kind == kind, conditions.to_sql(condition, columns(template)))
        .execution_options(**rls.as_company(company_id))
    )
    if record_ids is not None:
        ids = list(record_ids)
        if not ids:
            return set()
        statement = statement.where(Record.id.in_(ids))
    found = set(session.scalars(statement))
    if memo is not None:
        memo[key] = frozenset(found)
    return found


def _grantee_users(
    session: Session, company_id: uuid.UUID, grantees: dict[str, Any]
) -> set[uuid.UUID]:
    users = {uuid.UUID(u) for u in grantees.get("users", [])}
    teams = [uuid.UUID(t) for t in grantees.get("teams", [])]
    if teams:
        users |= set(
            session.scalars(select(TeamMember.user_id).where(TeamMember.team_id.in_(teams)))
        )
    if not users:
        return set()
    active = session.scalars(
        select(User.id).where(
            User.id.in_(users),
            User.company_id == company_id,
            User.is_active.is_(True),
            User.role != Role.ADMIN.value,
        )
    )
    return set(active)


@rls.unsafe_system_maintenance
def refresh_visibility(
    session: Session,
    company_id: uuid.UUID,
    kind: str,
    record_ids: Iterable[uuid.UUID] | None = None,
) -> int:
    """Rewrite the per-user grant rows of one company and kind (all records, or some).
    Returns how many per-user rows now exist for the scope."""
    scope = None if record_ids is None else list(record_ids)
    session.flush()
    clear = delete(RecordAccess).where(
        RecordAccess.company_id == company_id,
        RecordAccess.kind == kind,
        RecordAccess.principal != COMPANY_WIDE,
    )
    if scope is not None:
        if not scope:
            return 0
        clear = clear.where(RecordAccess.record_id.in_(scope))
    session.execute(clear)
    rules = enabled_rules(session, company_id, kind, VISIBILITY)
    if not rules:
        return 0
    grants: dict[tuple[uuid.UUID, uuid.UUID], bool] = {}
    for compiled in rules:
        users = _grantee_users(session, company_id, compiled.rule.grantees)
        if not users:
            continue
        edit = compiled.rule.permission == "edit"
        for record_id in matching(session, company_id, kind, compiled.condition, scope):
            for user_id in users:
                key = (user_id, record_id)
                grants[key] = grants.get(key, False) or edit
    for user_id, record_id in _creators_and_owners(session, company_id, kind, scope):
        grants[(user_id, record_id)] = True
    if grants:
        session.execute(
            insert(RecordAccess),
            [
                {
                    "company_id": company_id,
                    "kind": kind,
                    "principal": user_id,
                    "record_id": record_id,
                    "can_edit": can_edit,
                    "via": "visibility-rule",
                }
                for (user_id, record_id), can_edit in grants.items()
            ],
        )
    return len(grants)


def _creators_and_owners(
    session: Session, company_id: uuid.UUID, kind: str, scope: list[uuid.UUID] | None
) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """A user always sees the records they created or own (unless they are admins, who see all)."""
    base = (
        select(Record.id, Record.created_by_user_id, Space.owner_user_id)
        .join(
            Participant,
            and_(
                Participant.record_id == Record.id,
                Participant.company_id == company_id,
                Participant.status == ParticipantStatus.ACTIVE.value,
            ),
        )
        .join(Space, and_(Space.record_id == Record.id, Space.company_id == company_id))
        .where(Record.kind == kind)
        .execution_options(**GATE)
    )
    if scope is not None:
        base = base.where(Record.id.in_(scope))
    members = set(
        session.scalars(
            select(User.id).where(
                User.company_id == company_id,
                User.is_active.is_(True),
                User.role != Role.ADMIN.value,
            )
        )
    )
    pairs: set[tuple[uuid.UUID, uuid.UUID]] = set()
    for record_id, creator, owner in session.execute(base):
        for user_id in (creator, owner):
            if user_id is not None and user_id in members:
                pairs.add((user_id, record_id))
    return pairs


@dataclass
class ShareChanges:
    """What re-applying auto-share rules did: records whose participants changed, and among
    them those where an *active* company was withdrawn (only those change grants)."""

    changed: set[uuid.UUID]
    revoked: set[uuid.UUID]

    def __bool__(self) -> bool:
        return bool(self.changed)


@rls.unsafe_system_maintenance
def apply_auto_share(
    session: Session,
    company_id: uuid.UUID,
    kind: str,
    record_ids: Iterable[uuid.UUID] | None = None,
    *,
    acting_user_id: uuid.UUID | None = None,
) -> ShareChanges:
    """Bring the companies that `company_id`'s enabled auto-share rules name onto matching
    records, and withdraw them from records no rule of that company covers any more.

    On a record the company owns (or may admit to: the owner delegated it) a rule invites;
    on any other record it only *proposes* the company to the owner (DESIGN must 8), and a
    proposal the owner declined is never made again."""
    scope = None if record_ids is None else list(record_ids)
    session.flush()
    sharing = enabled_rules(session, company_id, kind, AUTO_SHARE)
    partners = partner_ids(session, company_id) if sharing else set()
    wanted: dict[tuple[uuid.UUID, uuid.UUID], str] = {}
    for compiled in sharing:
        targets = [uuid.UUID(c) for c in compiled.rule.grantees.get("companies", [])]
        targets = [c for c in targets if c in partners]
        if not targets:
            continue
        for record_id in matching(session, company_id, kind, compiled.condition, scope):
            for target in targets:
                wanted.setdefault((record_id, target), str(compiled.rule.id))
    admitting = _admitting(session, company_id, {record_id for record_id, _ in wanted})
    invite = {pair: rule for pair, rule in wanted.items() if pair[0] in admitting}
    propose = {pair: rule for pair, rule in wanted.items() if pair[0] not in admitting}
    changes = _invite_by_rule(session, company_id, kind, scope, invite, acting_user_id)
    _propose_by_rule(session, company_id, kind, scope, propose, acting_user_id)
    return changes


def _admitting(
    session: Session, company_id: uuid.UUID, record_ids: set[uuid.UUID]
) -> set[uuid.UUID]:
    """The records among `record_ids` that `company_id` owns or may admit companies to."""
    found: set[uuid.UUID] = set()
    ids = sorted(record_ids)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        found |= set(
            session.scalars(
                select(Record.id)
                .join(
                    Participant,
                    and_(
                        Participant.record_id == Record.id,
                        Participant.company_id == company_id,
                    ),
                )
                .where(
                    Record.id.in_(chunk),
                    or_(
                        Record.owner_company_id == company_id,
                        and_(
                            Participant.status == ParticipantStatus.ACTIVE.value,
                            Participant.can_admit.is_(True),
                        ),
                    ),
                )
                .execution_options(**GATE)
            )
        )
    return found


def _invite_by_rule(
    session: Session,
    company_id: uuid.UUID,
    kind: str,
    scope: list[uuid.UUID] | None,
    wanted: dict[tuple[uuid.UUID, uuid.UUID], str],
    acting_user_id: uuid.UUID | None,
) -> ShareChanges:
    """Invite the `wanted` (record, company) pairs; remove the companies this company's rules
    invited from records they no longer cover."""
    existing = _rule_participants(session, company_id, kind, scope)
    changes = ShareChanges(set(), set())
    now = utcnow()
    current = _participants_of(session, wanted)
    new_rows: list[dict[str, Any]] = []
    for (record_id, target), rule_id in wanted.items():
        participant = current.get((record_id, target))
        if (
            participant is not None
            and participant.source != "manual"
            and participant.status == ParticipantStatus.REMOVED.value
        ):
            # the rule had withdrawn it; the record matches again: invite again
            participant.status = ParticipantStatus.INVITED.value
            participant.source = rule_id
            participant.invited_at = now
            participant.responded_at = None
            changes.changed.add(record_id)
        elif participant is None:
            new_rows.append(
                {
                    "record_id": record_id,
                    "company_id": target,
                    "status": ParticipantStatus.INVITED.value,
                    "invited_by_company_id": company_id,
                    "invited_by_user_id": acting_user_id,
                    "invited_at": now,
                    "source": rule_id,
                }
            )
            changes.changed.add(record_id)
    _insert_invitations(session, new_rows)
    for participant in existing:
        if (participant.record_id, participant.company_id) in wanted:
            continue
        if participant.status in (ParticipantStatus.INVITED.value, ParticipantStatus.ACTIVE.value):
            if participant.status == ParticipantStatus.ACTIVE.value:
                changes.revoked.add(participant.record_id)
            participant.status = ParticipantStatus.REMOVED.value
            participant.responded_at = now
            changes.changed.add(participant.record_id)
    return changes


def _propose_by_rule(
    session: Session,
    company_id: uuid.UUID,
    kind: str,
    scope: list[uuid.UUID] | None,
    wanted: dict[tuple[uuid.UUID, uuid.UUID], str],
    acting_user_id: uuid.UUID | None,
) -> None:
    """Propose the `wanted` (record, company) pairs to the records' owners; withdraw this
    company's pending rule-made proposals that no rule covers any more. A company already on
    the record is not proposed; a proposal the owner declined or accepted is left alone."""
    statement = (
        select(Proposal)
        .where(Proposal.proposed_by_company_id == company_id, Proposal.kind == kind)
        .execution_options(**GATE)
    )
    if scope is not None:
        statement = statement.where(Proposal.record_id.in_(scope))
    mine = {(p.record_id, p.company_id): p for p in session.scalars(statement)}
    on_record = {
        pair
        for pair, participant in _participants_of(session, wanted).items()
        if participant.status in (ParticipantStatus.INVITED.value, ParticipantStatus.ACTIVE.value)
    }
    now = utcnow()
    pending = ProposalStatus.PENDING.value
    for (record_id, target), rule_id in wanted.items():
        proposal = mine.get((record_id, target))
        if (record_id, target) in on_record:
            continue
        if proposal is None:
            session.add(
                Proposal(
                    record_id=record_id,
                    kind=kind,
                    company_id=target,
                    proposed_by_company_id=company_id,
                    proposed_by_user_id=acting_user_id,
                    source=rule_id,
                    status=pending,
                    note="",
                    reason="",
                    proposed_at=now,
                )
            )
        elif proposal.status == ProposalStatus.WITHDRAWN.value and proposal.source not in (
            "manual",
            "registration",
        ):  # the rule had withdrawn it (a person's withdrawal stands)
            proposal.status = pending
            proposal.source = rule_id
            proposal.proposed_at = now
            proposal.decided_at = None
    for (record_id, target), proposal in mine.items():
        if (
            (record_id, target) not in wanted
            and proposal.status == pending
            and proposal.source not in ("manual", "registration")
        ):
            proposal.status = ProposalStatus.WITHDRAWN.value
            proposal.decided_at = now


def _insert_invitations(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert rule-made invitations; on PostgreSQL one INSERT ... SELECT unnest(ids) per
    (company, rule), since a rule change may invite a company onto thousands of records."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(Participant), rows)
        return
    groups: dict[tuple[Any, ...], list[uuid.UUID]] = {}
    for row in rows:
        key = tuple(row[c] for c in _INVITATION_COLUMNS)
        groups.setdefault(key, []).append(row["record_id"])
    for key, record_ids in groups.items():
        ids = bindparam("record_ids", record_ids, type_=postgresql.ARRAY(Uuid()))
        constants = [
            literal(value, type_=getattr(Participant, column).type)
            for column, value in zip(_INVITATION_COLUMNS, key, strict=True)
        ]
        session.execute(
            insert(Participant).from_select(
                ["record_id", *_INVITATION_COLUMNS], select(func.unnest(ids), *constants)
            )
        )


_INVITATION_COLUMNS = (
    "company_id",
    "status",
    "invited_by_company_id",
    "invited_by_user_id",
    "invited_at",
    "source",
)


def _participants_of(
    session: Session, pairs: Iterable[tuple[uuid.UUID, uuid.UUID]]
) -> dict[tuple[uuid.UUID, uuid.UUID], Participant]:
    """The existing participant rows of (record, company) pairs, a chunk of records a query."""
    by_company: dict[uuid.UUID, list[uuid.UUID]] = {}
    for record_id, company_id in pairs:
        by_company.setdefault(company_id, []).append(record_id)
    found: dict[tuple[uuid.UUID, uuid.UUID], Participant] = {}
    for company_id, record_ids in by_company.items():
        for start in range(0, len(record_ids), CHUNK):
            rows = session.scalars(
                select(Participant)
                .where(
                    Participant.company_id == company_id,
                    Participant.record_id.in_(record_ids[start : start + CHUNK]),
                )
                .execution_options(**GATE)
            )
            found.update({(p.record_id, p.company_id): p for p in rows})
    return found


def _rule_participants(
    session: Session, company_id: uuid.UUID, kind: str, scope: list[uuid.UUID] | None
) -> list[Participant]:
    """Participants that an auto-share rule of `company_id` added to its `kind` records."""
    statement = (
        select(Participant)
        .join(Record, Record.id == Participant.record_id)
        .where(
            Participant.invited_by_company_id == company_id,
            Participant.source != "manual",
            Record.kind == kind,
        )
        .execution_options(**GATE)
    )
    if scope is not None:
        statement = statement.where(Participant.record_id.in_(scope))
    # any non-manual source by this company: participants of since-deleted rules are covered too
    return list(session.scalars(statement))
