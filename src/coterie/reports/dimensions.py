"""Group-by dimensions: each name becomes masked SQL over the gate's records (never raw values).

Bare names read the viewer's own space (`stage`, `product`, `industry`, `region`, `owner`,
`close_quarter` of the own close date) or the shared core (`joint_stage`, `motion`,
`source_company`, `account`); `partner` groups by each active partner company of the record
(a record with two partners is in both groups). `campaign` and `solution` group by the
campaigns a record is attributed to and the joint solutions it is linked to
(`coterie.cosell.campaigns.links`), only those the viewer may see (a record linked to none it
sees is in the empty group; a record linked to two solutions is in both groups).
`mine.<key>` and `<company id>.<key>` name a space field the way list filters do: a field the
viewer cannot see (a partner's unshared field, its own private field while private fields are
hidden) is refused with 400
`/problems/field-not-visible`, exactly like a filter.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, String, and_, case, cast, func, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from coterie.authz import fields, gate
from coterie.fields.definitions import FieldDefinition, FieldType
from coterie.fields.kinds import ParticipantStatus
from coterie.kit.problems import invalid
from coterie.models import Participant, Record, RecordAccess
from coterie.models.links import RecordLink
from coterie.records.query import MINE, FieldResolver, ResolvedField
from coterie.reports.schemas import GroupValue

NONE_LABEL = "Not set"
NO_STAGE_LABEL = "No stage"
NOT_VISIBLE_LABEL = "Not visible"
NO_PARTNER_LABEL = "No partner"
HIDDEN_ACCOUNT = "not-visible"  # the group value of accounts the viewer may not see

# bare names of the viewer's own space fields
OWN_FIELDS = {
    "stage": "stage",
    "product": "product",
    "industry": "industry",
    "region": "region",
    "owner": "owner",
    "forecast_category": "forecast_category",
}
CORE_DIMENSIONS = (
    "joint_stage", "motion", "source_company", "account", "partner", "campaign", "solution",
)  # fmt: skip
# dimensions built from record links: name -> (relation, the linked hub's kind)
LINK_DIMENSIONS = {"campaign": ("campaign", "campaign"), "solution": ("solution", "solution")}
NO_LINK_LABELS = {"campaign": "No campaign", "solution": "No solution"}
GROUPABLE_CUSTOM = frozenset({FieldType.ENUM, FieldType.BOOL, FieldType.TEXT, FieldType.USER})
NOT_GROUPABLE_STANDARD = frozenset({"amount", "currency"})

# labels: how group values read (names of companies, users, accounts, stages)
Labeler = Callable[[Session, list[str]], dict[str, str]]


@dataclass(frozen=True)
class Dimension:
    name: str
    column: Any  # the masked group key (a column expression)
    # "text", "company", "user", "account", "stage", "joint_stage", "option" (an enum field's
    # options: `definition`), "motion", "bool"; option-like kinds sort in their own order
    label_kind: str
    joins_partners: bool = False  # the `partner` dimension: one row per active partner
    definition: FieldDefinition | None = None  # "option": the enum field, for its options
    # a link dimension: the (distinct, visible) links outer-joined on the record, one row each
    join: tuple[Any, ColumnElement[bool]] | None = None

    @property
    def multi_valued(self) -> bool:
        """Whether a record may be in several groups (totals then count it once)."""
        return self.joins_partners or self.join is not None


def quarter_of(value: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """'2026-Q3' of a date (NULL stays NULL)."""
    if dialect == "postgresql":
        return func.to_char(value, 'YYYY-"Q"Q')
    quarter = (cast(func.strftime("%m", value), Integer) + 2) // 3
    return func.strftime("%Y", value).concat("-Q").concat(cast(quarter, String))


PARTNER = Participant.__table__.alias("report_partner")


def partner_join_condition(principal_company: uuid.UUID) -> ColumnElement[bool]:
    return and_(
        PARTNER.c.record_id == RecordAccess.record_id,
        PARTNER.c.company_id != principal_company,
        PARTNER.c.status == ParticipantStatus.ACTIVE.value,
    )


def visible_value(resolver: FieldResolver, field: ResolvedField) -> ColumnElement[Any]:
    """The SQL value of a resolved field. A partner's stays masked (`CASE WHEN shared`). The
    viewer's own space is joined on its own company only, and the resolver has already refused
    an own key the viewer may not see, so there the mask would always be true: the column is
    read as is, which keeps the aggregate as cheap as a hand-written GROUP BY."""
    definition = field.definition
    if field.owner != resolver.principal.company_id or definition is None:
        return field.filter_value
    space = resolver.space(field.owner)
    if definition.is_standard:
        return fields.standard_value(space, field.key)
    return fields.custom_value(space, field.key, definition.type)


def linked_hubs(principal_links: Any, relation: str, hub_kind: str, visible: Any) -> Any:
    """The distinct (record, hub) pairs of `relation` whose hub the viewer may see, as a
    subquery (two companies linking the same pair make one row)."""
    return (
        select(principal_links.c.from_record_id, principal_links.c.to_record_id)
        .where(
            principal_links.c.relation == relation,
            principal_links.c.to_kind == hub_kind,
            principal_links.c.to_record_id.in_(visible),
        )
        .distinct()
    )


def _link_dimension(resolver: FieldResolver, name: str) -> Dimension:
    relation, hub_kind = LINK_DIMENSIONS[name]
    pairs = linked_hubs(
        RecordLink.__table__, relation, hub_kind, gate.visible_ids(resolver.principal, hub_kind)
    ).subquery(f"report_{name}_links")
    condition = pairs.c.from_record_id == RecordAccess.record_id
    return Dimension(name, pairs.c.to_record_id, name, join=(pairs, condition))


def resolve(resolver: FieldResolver, name: str, path: str) -> Dimension:
    """The dimension `name`: 422 for an unknown or ungroupable name, 400 for a hidden field."""
    principal = resolver.principal
    if name in LINK_DIMENSIONS:
        return _link_dimension(resolver, name)
    if name == "partner":
        return Dimension(name, PARTNER.c.company_id, "company", joins_partners=True)
    if name == "joint_stage":
        return Dimension(name, Record.joint_stage, "joint_stage")
    if name == "motion":
        return Dimension(name, Record.motion, "motion")
    if name == "source_company":
        return Dimension(name, Record.source_company_id, "company")
    if name == "account":
        seen = Record.account_id.in_(gate.visible_ids(principal, "account"))
        column = case(
            (Record.account_id.is_(None), None),
            (seen, cast(Record.account_id, String)),
            else_=literal(HIDDEN_ACCOUNT),
        )
        return Dimension(name, column, "account")
    if name == "close_quarter":
        field = resolver.resolve(f"{MINE}.close_date", path)
        value = visible_value(resolver, field)
        return Dimension(name, quarter_of(value, resolver.dialect), "text")
    if name in OWN_FIELDS:
        return _space_dimension(resolver, name, f"{MINE}.{OWN_FIELDS[name]}", path)
    if "." in name:
        return _space_dimension(resolver, name, name, path)
    raise invalid(path, f"'{name}' is not a dimension")


def _space_dimension(resolver: FieldResolver, name: str, field_name: str, path: str) -> Dimension:
    field = resolver.resolve(field_name, path)  # 400 when the viewer cannot see it
    definition = field.definition
    if definition is None:  # a core field spelled with a prefix cannot happen; be strict
        raise invalid(path, f"'{name}' cannot be grouped by")
    if definition.is_standard:
        if field.key in NOT_GROUPABLE_STANDARD:
            raise invalid(path, f"'{name}' (money) cannot be grouped by")
    elif definition.type not in GROUPABLE_CUSTOM:
        raise invalid(path, f"'{name}' ({definition.type}) cannot be grouped by")
    mine = field.owner == resolver.principal.company_id
    options: FieldDefinition | None = None
    if field.key == "owner":
        label = "user"
    elif field.key == "stage" and mine:
        label = "stage"
    elif definition.type == FieldType.ENUM and (mine or definition.is_standard):
        # a partner's own options are the partner's: its custom enums show their keys
        label, options = "option", definition
    elif definition.type == FieldType.BOOL:
        label = "bool"
    else:
        label = "text"
    return Dimension(name, visible_value(resolver, field), label, definition=options)


def key_of(value: Any) -> str | None:
    """A group value as the API shows it."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return str(value)


def to_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def group_value(
    dimension: Dimension, value: str | None, labels: dict[str, dict[str, str]]
) -> GroupValue:
    if value is None:
        if dimension.joins_partners:
            return GroupValue(value=None, label=NO_PARTNER_LABEL)
        if dimension.label_kind in ("stage", "joint_stage"):
            return GroupValue(value=None, label=NO_STAGE_LABEL)
        if dimension.name in NO_LINK_LABELS:
            return GroupValue(value=None, label=NO_LINK_LABELS[dimension.name])
        return GroupValue(value=None, label=NONE_LABEL)
    if dimension.label_kind == "account" and value == HIDDEN_ACCOUNT:
        return GroupValue(value=HIDDEN_ACCOUNT, label=NOT_VISIBLE_LABEL)
    if dimension.label_kind == "account":
        found = to_uuid(value)
        value = str(found) if found else value
    return GroupValue(value=value, label=labels.get(dimension.name, {}).get(value, value))
