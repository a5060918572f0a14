"""Masked field expressions: one field of one company's space, as a principal may see it.

This module owns the gate's per-field rule, as SQL over `Space` or any alias of it. A field is
visible when the space is the principal's own and its own template shows the field (the caller
passes `shown_to_self`: not private, or "hide private fields" off), or when the space belongs to
another company that shares the field with the principal's company (`field_shares`: with every
participant, or with this company by name). `masked()` wraps a value in
`CASE WHEN visible THEN value END`, so whatever reads it (the gate's spaces, list filters and
sorts, counts, exports) receives NULL for everything hidden, and a filter can never test a
hidden value. `join_space()` outer-joins one company's space to the rows of a gate query; a
partner's space joins only while that partner is an active participant of the record, exactly
like `gate.spaces()`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Float, Select, and_, case, cast, or_, select
from sqlalchemy.orm import QueryableAttribute, Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from coterie.authz.principal import Principal
from coterie.fields.definitions import STANDARD_FIELDS, FieldType
from coterie.fields.kinds import ParticipantStatus
from coterie.models import FieldShare, Participant, Space

Audience = ColumnElement[Any] | uuid.UUID


def shared_to(
    kind: str, owner: ColumnElement[Any] | QueryableAttribute[Any], audience: Audience
) -> ColumnElement[bool]:
    """The `field_shares` rows by which `owner` shares fields of its `kind` spaces with the
    company `audience`: shared with every participant, or with that company by name.

    The one statement of the sharing rule; every masked read (spaces, filters, exports,
    search) builds on it."""
    return and_(
        FieldShare.kind == kind,
        FieldShare.owner_company_id == owner,
        or_(
            FieldShare.audience_company_id.is_(None),
            FieldShare.audience_company_id == audience,
        ),
    )


def shared_with(space: type[Space], kind: str, key: str, audience: Audience) -> ColumnElement[bool]:
    """Whether the company owning the `space` row shares field `key` of its `kind` spaces with
    the company `audience`.

    Correlated on purpose: one index probe (ix_field_shares_lookup) per space row on the page.
    An uncorrelated `company_id IN (SELECT owner ...)` made PostgreSQL hash every sharing
    company of the network for each field, so a page cost grew with the network, not the page.
    """
    return (
        select(FieldShare.id)
        .where(shared_to(kind, space.company_id, audience), FieldShare.field_key == key)
        .correlate(space)
        .exists()
    )


def shared_keys(space: type[Space], kind: str, audience: Audience) -> Select[Any]:
    """The keys of the fields the `space` row's owner shares with `audience` (correlated)."""
    return (
        select(FieldShare.field_key)
        .where(shared_to(kind, space.company_id, audience))
        .correlate(space)  # the space of the outer row; without this it would cross-join
    )


def field_visible(
    space: type[Space], kind: str, key: str, principal: Principal, *, shown_to_self: bool
) -> ColumnElement[bool]:
    """Whether field `key` of the `space` row is visible to the principal (never NULL)."""
    mine = space.company_id == principal.company_id
    theirs = and_(
        space.company_id != principal.company_id,
        shared_with(space, kind, key, principal.company_id),
    )
    return or_(mine, theirs) if shown_to_self else theirs


def masked(
    space: type[Space],
    kind: str,
    key: str,
    principal: Principal,
    value: ColumnElement[Any] | Any,
    *,
    shown_to_self: bool,
) -> ColumnElement[Any]:
    """`value` (an expression over `space`) where field `key` is visible, else NULL."""
    return case(
        (field_visible(space, kind, key, principal, shown_to_self=shown_to_self), value),
        else_=None,
    )


def standard_value(space: type[Space], key: str) -> ColumnElement[Any]:
    """The typed column of a standard field."""
    column: ColumnElement[Any] = getattr(space, STANDARD_FIELDS[key].column)
    return column


def custom_value(space: type[Space], key: str, type_: FieldType | None) -> ColumnElement[Any]:
    """A custom field's value as a comparable SQL scalar: numbers as floats (on both engines),
    booleans as booleans, text, dates (ISO) and users (UUID) as text; multi_enum and money stay
    the JSON element itself (they are not scalars)."""
    element: ColumnElement[Any] = space.custom[key]
    if type_ == FieldType.NUMBER:
        return cast(element.as_float(), Float)
    if type_ == FieldType.BOOL:
        as_boolean: ColumnElement[Any] = element.as_boolean()
        return as_boolean
    if type_ in (FieldType.MULTI_ENUM, FieldType.MONEY):
        return element
    as_string: ColumnElement[Any] = element.as_string()
    return as_string


def custom_json(space: type[Space], key: str) -> ColumnElement[Any]:
    """A custom field's stored JSON value (for display: money, lists and all)."""
    element: ColumnElement[Any] = space.custom[key]
    return element


def new_space_alias(name: str) -> type[Space]:
    """An alias of `record_spaces` for one company's space in a list query."""
    return aliased(Space, name=name)


def join_space(
    statement: Select[Any],
    principal: Principal,
    space: type[Space],
    owner_company_id: uuid.UUID,
    record_id: ColumnElement[uuid.UUID] | Any,
) -> Select[Any]:
    """`statement` outer-joined to `owner_company_id`'s space (the alias `space`) of each row's
    record (`record_id` is the statement's record id column).

    The principal's own space always joins; another company's only while that company is an
    active participant of the record (as in `gate.spaces()`), so the values of a company that
    left, was removed or is merely invited read as NULL."""
    on: list[ColumnElement[bool]] = [
        space.record_id == record_id,
        space.company_id == owner_company_id,
    ]
    if owner_company_id != principal.company_id:
        active = (
            select(Participant.record_id)
            .where(
                Participant.record_id == space.record_id,
                Participant.company_id == space.company_id,
                Participant.status == ParticipantStatus.ACTIVE.value,
            )
            .correlate(space)  # the joined space row; without this it would cross-join
            .exists()
        )
        on.append(active)
    return statement.outerjoin(space, and_(*on))


def shares_with(
    session: Session, principal: Principal, kind: str
) -> Mapping[uuid.UUID, frozenset[str]]:
    """Other companies' fields of `kind` shared with the principal's company: owner -> keys.

    Whether a partner's field may be filtered, sorted or exported is decided from this (the
    compiled templates), never from values."""
    rows = session.execute(
        select(FieldShare.owner_company_id, FieldShare.field_key).where(
            shared_to(kind, FieldShare.owner_company_id, principal.company_id),
            FieldShare.owner_company_id != principal.company_id,
        )
    )
    result: dict[uuid.UUID, set[str]] = {}
    for owner, key in rows:
        result.setdefault(owner, set()).add(key)
    return {owner: frozenset(keys) for owner, keys in result.items()}
