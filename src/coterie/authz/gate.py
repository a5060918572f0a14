"""The gate: every read of shared records starts here.

`visible()` gives the records a principal may see, as a SELECT that starts from the grant table
(`record_access`); `check()` answers one record or raises 404; `spaces()` gives the spaces of
visible records with every field the principal may not see masked *in SQL* (`CASE WHEN`), and
custom fields filtered key by key inside the database. Lists, search, exports and aggregates
all build on these, so they receive masked data only. Every statement carries
`rls.as_company(...)`, so on PostgreSQL row-level security reads as the principal's company too.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Select,
    and_,
    any_,
    bindparam,
    case,
    false,
    func,
    literal,
    null,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from coterie.authz import fields, rls
from coterie.authz.principal import Principal
from coterie.fields.definitions import STANDARD_FIELDS
from coterie.fields.kinds import ParticipantStatus
from coterie.fields.policy import OwnFieldPolicy
from coterie.kit.problems import forbidden, not_found
from coterie.models import FieldShare, Participant, Record, RecordAccess, Space


@dataclass(frozen=True)
class MaskedSpace:
    record_id: uuid.UUID
    company_id: uuid.UUID
    is_mine: bool
    version: int | None
    standard: dict[str, Any]  # key -> value, only the keys the principal may see
    custom: dict[str, Any]


def visible(principal: Principal, kind: str) -> Select[Record]:
    """Records of `kind` the principal may read, ordered by id (the grant index order)."""
    return (
        select(Record)
        .select_from(RecordAccess)
        .join(Record, Record.id == RecordAccess.record_id)
        .where(
            RecordAccess.company_id == principal.company_id,
            RecordAccess.kind == kind,
            RecordAccess.principal == principal.access_key(kind),
        )
        .execution_options(**rls.as_company(principal.company_id))
    )


def visible_ids(principal: Principal, kind: str) -> Select[uuid.UUID]:
    return (
        select(RecordAccess.record_id)
        .where(
            RecordAccess.company_id == principal.company_id,
            RecordAccess.kind == kind,
            RecordAccess.principal == principal.access_key(kind),
        )
        .execution_options(**rls.as_company(principal.company_id))
    )


def visible_titles(
    session: Session, principal: Principal, refs: Iterable[tuple[str, uuid.UUID]]
) -> dict[uuid.UUID, str]:
    """Titles of the records (kind, id) in `refs` that the principal may read: one statement
    per kind."""
    by_kind: dict[str, set[uuid.UUID]] = {}
    for kind, record_id in refs:
        by_kind.setdefault(kind, set()).add(record_id)
    titles: dict[uuid.UUID, str] = {}
    for kind, ids in sorted(by_kind.items()):
        statement = (
            visible(principal, kind)
            .with_only_columns(Record.id, Record.title)
            .where(Record.id.in_(ids))
        )
        titles.update((row[0], row[1]) for row in session.execute(statement))
    return titles


def active_partners(
    session: Session, principal: Principal, kind: str, record_ids: Select[Any]
) -> set[uuid.UUID]:
    """Other companies that actively participate in any of `record_ids` (a select of record
    ids), re-checked against the grant table: participants the principal may see anyway."""
    statement = (
        select(Participant.company_id)
        .where(
            Participant.record_id.in_(record_ids),
            Participant.record_id.in_(visible_ids(principal, kind)),
            Participant.company_id != principal.company_id,
            Participant.status == ParticipantStatus.ACTIVE.value,
        )
        .distinct()
        .execution_options(**rls.as_company(principal.company_id))
    )
    return set(session.scalars(statement))


def takes_part_with(
    session: Session, principal: Principal, kind: str, company_id: uuid.UUID
) -> bool:
    """Whether `company_id` actively participates in some record of `kind` the principal may
    see. A company's shared fields exist for the principal only then: a stranger cannot probe
    which fields (custom keys included) a company shares with its participants."""
    statement = (
        select(Participant.record_id)
        .where(
            Participant.company_id == company_id,
            Participant.status == ParticipantStatus.ACTIVE.value,
            Participant.record_id.in_(visible_ids(principal, kind)),
        )
        .limit(1)
        .execution_options(**rls.as_company(principal.company_id))
    )
    return session.scalars(statement).first() is not None


def check(session: Session, principal: Principal, kind: str, record_id: uuid.UUID) -> Record:
    """The record if the principal may read it; otherwise 404, as if it did not exist."""
    statement = visible(principal, kind).where(RecordAccess.record_id == record_id)
    record = session.scalars(statement).first()
    if record is None:
        raise not_found(kind)
    return record


def require_edit(session: Session, principal: Principal, kind: str, record_id: uuid.UUID) -> Record:
    """The record if the principal may edit it; 404 if it may not see it, 403 if read-only."""
    statement = (
        visible(principal, kind)
        .add_columns(RecordAccess.can_edit)
        .where(RecordAccess.record_id == record_id)
    )
    row = session.execute(statement).first()
    if row is None:
        raise not_found(kind)
    record: Record = row[0]
    if not row[1]:
        raise forbidden("You may read this record but not edit it (your company's access rules).")
    return record


def participants(
    session: Session, principal: Principal, kind: str, record_ids: Sequence[uuid.UUID]
) -> list[Participant]:
    """Participants of records the principal may read (the ids are re-checked here)."""
    if not record_ids:
        return []
    statement = (
        select(Participant)
        .where(
            Participant.record_id.in_(record_ids),
            Participant.record_id.in_(visible_ids(principal, kind)),
        )
        .order_by(Participant.record_id, Participant.invited_at)
        .execution_options(**rls.as_company(principal.company_id))
    )
    return list(session.scalars(statement))


def own_space_for_write(
    session: Session, principal: Principal, kind: str, record_id: uuid.UUID
) -> Space:
    """My company's space on a record I may edit; 404 when I may not see it, 403 when I may
    only read it."""
    statement = (
        visible(principal, kind)
        .add_columns(RecordAccess.can_edit, Space)
        .outerjoin(
            Space,
            and_(
                Space.record_id == RecordAccess.record_id,
                Space.company_id == principal.company_id,
            ),
        )
        .where(RecordAccess.record_id == record_id)
    )
    row = session.execute(statement).first()
    if row is None:
        raise not_found(kind)
    if not row[1]:
        raise forbidden("You may read this record but not edit it (your company's access rules).")
    space: Space | None = row[2]
    if space is None:
        raise not_found(kind)
    return space


_COMPANY = "gate_company"
_ACCESS_KEY = "gate_access_key"
_RECORD_IDS = "gate_record_ids"


def _custom_aggregate(
    dialect: str, entries: Any, condition: ColumnElement[bool], *outer: Any
) -> ColumnElement[Any]:
    """The entries of the space's custom JSON that meet `condition`, as one JSON object."""
    aggregate: ColumnElement[Any]
    if dialect == "postgresql":
        aggregate = func.coalesce(
            func.json_object_agg(entries.c.key, entries.c.value), literal("{}").cast(JSON)
        )
    else:
        value = case(
            (entries.c.type == "true", func.json("true")),
            (entries.c.type == "false", func.json("false")),
            else_=entries.c.value,
        )
        aggregate = func.json_group_object(entries.c.key, value)
    # correlated to the outer row (and, on PostgreSQL, its shared-keys lateral: not re-run here)
    subquery = select(aggregate).select_from(entries).where(condition).correlate(Space, *outer)
    return type_coerce(subquery.scalar_subquery(), JSON)


@functools.lru_cache(maxsize=256)
def _spaces_statement(dialect: str, kind: str, own: OwnFieldPolicy) -> Executable:
    """The masked-spaces statement of one shape; the principal comes in as bound parameters
    (`_COMPANY`, `_ACCESS_KEY`, `_RECORD_IDS`), so the statement is built and compiled once.

    On PostgreSQL the keys the owner shares with the principal's company are aggregated once
    per space row (`LEFT JOIN LATERAL ... array_agg`) and every field is masked against that
    array; elsewhere each field probes `field_shares` (correlated EXISTS)."""
    company = bindparam(_COMPANY, type_=Space.company_id.type)
    access_key = bindparam(_ACCESS_KEY, type_=RecordAccess.principal.type)
    # one array parameter on PostgreSQL: the statement text stays the same for every page, so
    # the driver caches its parsing and the server may prepare it
    record_ids: BindParameter[Any] = (
        bindparam(_RECORD_IDS, type_=postgresql.ARRAY(Space.record_id.type))
        if dialect == "postgresql"
        else bindparam(_RECORD_IDS, expanding=True)
    )
    in_page = (
        Space.record_id == any_(record_ids)
        if dialect == "postgresql"
        else Space.record_id.in_(record_ids)
    )
    is_mine = Space.company_id == company
    entries = func.json_each(Space.custom).table_valued("key", "value", "type").alias("entry")
    own_keys = sorted(own.visible_custom)
    own_entry = entries.c.key.in_(own_keys) if own_keys else false()
    shared: Any = None
    if dialect == "postgresql":
        shared = (
            select(func.array_agg(FieldShare.field_key).label("shared_keys"))
            .where(fields.shared_to(kind, Space.company_id, company))
            .correlate(Space)
            .lateral("shared")
        )
        shared_keys: ColumnElement[Any] = shared.c.shared_keys

        def masked(key: str, value: Any) -> ColumnElement[Any]:
            return case(
                (is_mine, value if key in own.visible_standard else null()),
                (literal(key) == any_(shared_keys), value),
                else_=None,
            )

        custom = _custom_aggregate(
            dialect,
            entries,
            case((is_mine, own_entry), else_=entries.c.key == any_(shared_keys)),
            shared,
        )
    else:

        def masked(key: str, value: Any) -> ColumnElement[Any]:
            theirs = and_(
                Space.company_id != company, fields.shared_with(Space, kind, key, company)
            )
            visible = or_(is_mine, theirs) if key in own.visible_standard else theirs
            return case((visible, value), else_=None)

        shared_entry = entries.c.key.in_(fields.shared_keys(Space, kind, company))
        custom = _custom_aggregate(
            dialect,
            entries,
            or_(
                and_(is_mine, own_entry),
                and_(Space.company_id != company, shared_entry),
            ),
        )
    standard_columns = [
        masked(key, getattr(Space, field.column)).label(key)
        for key, field in STANDARD_FIELDS.items()
        if key != "currency"
    ]
    visible_ids = select(RecordAccess.record_id).where(
        RecordAccess.company_id == company,
        RecordAccess.kind == kind,
        RecordAccess.principal == access_key,
    )
    statement = (
        select(
            Space.record_id,
            Space.company_id,
            case((is_mine, Space.version), else_=None).label("version"),
            *standard_columns,
            masked("currency", Space.currency).label("currency"),
            masked("amount", Space.currency).label("amount_currency"),
            custom.label("custom"),
        )
        .select_from(Space)
        .join(
            Participant,
            and_(
                Participant.record_id == Space.record_id,
                Participant.company_id == Space.company_id,
            ),
        )
    )
    if shared is not None:
        statement = statement.outerjoin(shared, true())
    return statement.where(
        in_page,
        Space.record_id.in_(visible_ids),
        or_(is_mine, Participant.status == ParticipantStatus.ACTIVE.value),
    ).order_by(Space.record_id, Space.company_id)


# (key, index in a row of `_spaces_statement`): record_id, company_id, version, the standard
# fields but currency, currency, amount_currency, custom
_COLUMN_OF = {key: 3 + i for i, key in enumerate(k for k in STANDARD_FIELDS if k != "currency")}
_STANDARD_COLUMNS: tuple[tuple[str, int], ...] = tuple(
    (key, _COLUMN_OF.get(key, -3)) for key in STANDARD_FIELDS
)


def spaces(
    session: Session,
    principal: Principal,
    kind: str,
    record_ids: Sequence[uuid.UUID],
    own: OwnFieldPolicy,
) -> list[MaskedSpace]:
    """The spaces of the given records that the principal may see, masked field by field.

    A partner's space appears while that partner is an active participant; the principal's
    own space always appears. Record ids the principal may not read yield nothing.
    """
    if not record_ids:
        return []
    statement = _spaces_statement(session.get_bind().dialect.name, kind, own)
    parameters = {
        _COMPANY: principal.company_id,
        _ACCESS_KEY: principal.access_key(kind),
        _RECORD_IDS: list(record_ids),
    }
    rows = session.execute(
        statement, parameters, execution_options=rls.as_company(principal.company_id)
    )
    result: list[MaskedSpace] = []
    for row in rows:
        standard: dict[str, Any] = {}
        for key, index in _STANDARD_COLUMNS:
            value = row[index]
            if value is None:
                continue
            if key == "amount":
                standard[key] = {"value": f"{Decimal(value):.2f}", "currency": row[-2]}
            elif isinstance(value, uuid.UUID):
                standard[key] = str(value)
            elif isinstance(value, date):  # datetime too
                standard[key] = value.isoformat()
            else:
                standard[key] = value
        result.append(
            MaskedSpace(
                record_id=row[0],
                company_id=row[1],
                is_mine=row[1] == principal.company_id,
                version=row[2],
                standard=standard,
                custom=dict(row[-1] or {}),
            )
        )
    return result


def _my_participant(
    principal: Principal, kind: str, record_id: uuid.UUID
) -> Select[Record, Participant]:
    """A record of `kind` with my company's own participant row in it (any status)."""
    return (
        select(Record, Participant)
        .join(Participant, Participant.record_id == Record.id)
        .where(
            Record.id == record_id,
            Record.kind == kind,
            Participant.company_id == principal.company_id,
        )
        .execution_options(**rls.as_company(principal.company_id))
    )


def my_participation(
    session: Session, principal: Principal, kind: str, record_id: uuid.UUID
) -> tuple[Record, Participant]:
    """My company's participation in a record in any status (to accept, decline or leave).

    Only the principal's own participant row is read; 404 when the company was never invited.
    """
    row = session.execute(_my_participant(principal, kind, record_id)).first()
    if row is None:
        raise not_found(kind)
    record, participant = row
    return record, participant


def participant_for_write(
    session: Session, principal: Principal, kind: str, record_id: uuid.UUID, company_id: uuid.UUID
) -> tuple[Record, Participant | None]:
    """A record the principal may edit, and another company's participation in it (if any)."""
    record = require_edit(session, principal, kind, record_id)
    statement = (
        select(Participant)
        .where(Participant.record_id == record_id, Participant.company_id == company_id)
        .execution_options(**rls.as_company(principal.company_id))
    )
    return record, session.scalars(statement).first()


def invited_ids(principal: Principal) -> Select[uuid.UUID]:
    """Records my company is invited to and has not answered (the invitation view: callers show
    only the title, the customer and the inviter)."""
    return (
        select(Participant.record_id)
        .where(
            Participant.company_id == principal.company_id,
            Participant.status == ParticipantStatus.INVITED.value,
        )
        .execution_options(**rls.as_company(principal.company_id))
    )


def invitation(
    session: Session, principal: Principal, kind: str, record_id: uuid.UUID
) -> tuple[Record, Participant] | None:
    """The record my company is invited to (not yet answered), for its invitation view only."""
    statement = _my_participant(principal, kind, record_id).where(
        Participant.status == ParticipantStatus.INVITED.value
    )
    row = session.execute(statement).first()
    return None if row is None else (row[0], row[1])


def invitations(session: Session, principal: Principal) -> list[tuple[Record, Participant]]:
    """Records my company is invited to: callers show only title, customer and inviter."""
    statement = (
        select(Record, Participant)
        .join(Participant, Participant.record_id == Record.id)
        .where(
            Participant.company_id == principal.company_id,
            Participant.status == ParticipantStatus.INVITED.value,
        )
        .order_by(Participant.invited_at.desc())
        .execution_options(**rls.as_company(principal.company_id))
    )
    return [(r, p) for r, p in session.execute(statement)]
