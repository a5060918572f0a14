"""List queries over shared records: filters, sorts, counts and keyset pages, all through the gate.

A list query starts from `gate.visible(principal, kind)` (the grant table) and adds only what the
caller asked for, over values masked in SQL by `coterie.authz.fields`:

- Field names. The shared core: `id`, `title`, `customer_name`, `customer_domain`, `motion`,
  `joint_stage`, `owner_company`, `created_at`, `updated_at` (every active participant sees
  them; timestamps filter by their UTC calendar day, e.g. `{"field": "created_at", "op": "gte",
  "value": "2026-01-01"}`, and sort by the instant). `mine.<key>`: a field of the caller's own
  space (standard fields and the custom fields of the caller's current template).
  `<company_id>.<key>`: a field of that company's space, which exists for the caller only when
  that company shares the field with the caller's company.
- Hidden means nonexistent (DESIGN.md, must #4). A name the caller cannot see (a partner field
  not shared with it, its own private field while "hide private fields" is on, a field that
  does not exist) is refused with 400 `/problems/field-not-visible`, the same answer in every
  case, and never silently applied. Malformed JSON or a malformed condition is 422 with the
  path of the error (`coterie.authz.conditions.parse`).
- Partner values come from `fields.masked()` over a space alias joined with
  `fields.join_space()`: `CASE WHEN visible THEN column END`, the partner's space joined only
  while it is an active participant, so a filter or sort can only ever see what the list shows.
- Sorting: up to MAX_SORT_FIELDS names, comma-separated, `-` for descending; NULLs sort last in
  both directions; ties are broken by the record id (ascending; `id` or `-id` as the last term
  sets its direction). Every page is ordered by `(v1 IS NULL, v1, ..., vn IS NULL, vn, id)`.
- Cursors: base64url JSON `{"sort": <normalized sort>, "after": [v1, ..., vn], "id": <uuid>}`,
  the sort values and id of the last row served; the next page holds the rows strictly after
  them in the order above, NULLs handled explicitly, so pages never skip or repeat a row. A
  cursor only fits the sort it was made for (422 otherwise).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, NoReturn

from pydantic import BaseModel
from sqlalchemy import Date, Select, String, and_, cast, false, func, or_
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from coterie.authz import conditions, fields, gate
from coterie.authz.catalog import CORE_FIELDS, catalog
from coterie.authz.conditions import FieldSpec
from coterie.authz.principal import Principal
from coterie.fields import templates
from coterie.fields.definitions import MAX_EXPONENT, FieldDefinition, FieldType
from coterie.fields.templates import CompanyTemplate
from coterie.kit import text_input
from coterie.kit.pagination import check_limit
from coterie.kit.problems import Problem, invalid
from coterie.models import Record, RecordAccess, Space

MAX_FILTER_LENGTH = 8000
MAX_SORT_LENGTH = 500
MAX_CURSOR_LENGTH = 8192
MAX_SORT_FIELDS = 3
NOT_VISIBLE = "field-not-visible"
MINE = "mine"
ID = "id"

SortType = Literal["text", "decimal", "float", "date", "datetime", "uuid", "bool"]


class RecordCount(BaseModel):
    count: int


def not_visible(name: str, path: str, hint: str = "") -> Problem:
    """400: the caller named a field it cannot see (or one that does not exist: the same)."""
    message = f"'{name}' is not a field you can see{hint}"
    return Problem(
        400,
        NOT_VISIBLE,
        "Field not visible",
        f"{path}: {message}",
        errors=[{"path": path, "message": message, "type": NOT_VISIBLE}],
        field=name,
    )


def _invalid(path: str, message: str) -> NoReturn:
    raise invalid(path, message, conditions.PROBLEM_SLUG)


# --- field names -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedField:
    """A field name the caller may use, with its masked SQL values."""

    name: str
    owner: uuid.UUID | None  # None: the shared core
    key: str
    definition: FieldDefinition | None  # the owner's template entry (None for the core)
    spec: FieldSpec | None  # None: the field cannot be filtered (custom money)
    filter_value: ColumnElement[Any]
    sort_value: ColumnElement[Any] | None  # None: cannot be sorted (multi_enum, custom money)
    sort_type: SortType | None
    display_value: ColumnElement[Any]  # for exports: typed column, or the custom JSON value
    currency_value: ColumnElement[Any] | None = None  # standard amount: its currency, masked


@dataclass(frozen=True)
class _Core:
    spec: FieldSpec
    column: Any
    sort_type: SortType
    by_day: bool = False


_CORE: dict[str, _Core] = {
    ID: _Core(FieldSpec("uuid", nullable=False), RecordAccess.record_id, "uuid"),
    "title": _Core(FieldSpec(FieldType.TEXT, nullable=False), Record.title, "text"),
    "customer_name": _Core(FieldSpec(FieldType.TEXT, nullable=False), Record.customer_name, "text"),
    "customer_domain": _Core(CORE_FIELDS["customer_domain"], Record.customer_domain, "text"),
    "motion": _Core(CORE_FIELDS["motion"], Record.motion, "text"),
    "joint_stage": _Core(CORE_FIELDS["joint_stage"], Record.joint_stage, "text"),
    "owner_company": _Core(FieldSpec("company", nullable=False), Record.owner_company_id, "uuid"),
    "created_at": _Core(
        FieldSpec(FieldType.DATE, nullable=False), Record.created_at, "datetime", True
    ),
    "updated_at": _Core(
        FieldSpec(FieldType.DATE, nullable=False), Record.updated_at, "datetime", True
    ),
}

_STANDARD_SORT: dict[str, SortType] = {"amount": "decimal", "close_date": "date", "owner": "uuid"}
_CUSTOM_SORT: dict[FieldType, SortType] = {
    FieldType.TEXT: "text",
    FieldType.LONG_TEXT: "text",
    FieldType.ENUM: "text",
    FieldType.USER: "text",
    FieldType.DATE: "text",  # ISO text: orders like the date
    FieldType.NUMBER: "float",
    FieldType.BOOL: "bool",
}


def _utc_day(column: Any, dialect: str) -> ColumnElement[Any]:
    """A UTC timestamp's calendar day, comparable with a `date` condition value."""
    if dialect == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column, type_=String())  # SQLite keeps UTC as 'YYYY-MM-DD HH:MM:SS...'


class FieldResolver:
    """Turns field names into masked SQL for one principal and kind, and remembers which spaces
    (the caller's own, each partner's) the query must join."""

    def __init__(self, session: Session, principal: Principal, kind: str) -> None:
        self.session = session
        self.principal = principal
        self.kind = kind
        self.dialect = session.get_bind().dialect.name
        self.own_template = templates.load(session, principal.company_id, kind)
        policy = self.own_template.own_policy(principal.hide_private)
        self.own_visible = policy.visible_standard | policy.visible_custom
        self._shares: Mapping[uuid.UUID, frozenset[str]] | None = None
        self._templates: dict[uuid.UUID, CompanyTemplate] = {}
        self._partners: dict[uuid.UUID, bool] = {}  # owner -> takes part in a visible record
        self._spaces: dict[uuid.UUID, type[Space]] = {}

    @property
    def shares(self) -> Mapping[uuid.UUID, frozenset[str]]:
        """Partner company -> keys of its fields shared with the caller's company."""
        if self._shares is None:
            self._shares = fields.shares_with(self.session, self.principal, self.kind)
        return self._shares

    def template_of(self, owner: uuid.UUID) -> CompanyTemplate:
        if owner == self.principal.company_id:
            return self.own_template
        if owner not in self._templates:
            self._templates[owner] = templates.load(self.session, owner, self.kind)
        return self._templates[owner]

    def visible_keys(self, owner: uuid.UUID) -> frozenset[str]:
        """Keys of `owner`'s space fields the caller may see: its own template's (less private
        ones while hidden), or those a partner shares with it, if that partner takes part in a
        record the caller sees."""
        if owner == self.principal.company_id:
            return self.own_visible
        keys = self.shares.get(owner, frozenset())
        if keys and owner not in self._partners:
            self._partners[owner] = gate.takes_part_with(
                self.session, self.principal, self.kind, owner
            )
        return keys if keys and self._partners[owner] else frozenset()

    def space(self, owner: uuid.UUID) -> type[Space]:
        if owner not in self._spaces:
            self._spaces[owner] = fields.new_space_alias(f"space_{len(self._spaces)}")
        return self._spaces[owner]

    def join(self, statement: Select[Any]) -> Select[Any]:
        """`statement` (from the gate) outer-joined to every space a resolved field uses."""
        for owner, space in self._spaces.items():
            statement = fields.join_space(
                statement, self.principal, space, owner, RecordAccess.record_id
            )
        return statement

    def resolve(self, name: str, path: str) -> ResolvedField:
        """The field `name`, or 400 field-not-visible (the same for hidden and nonexistent)."""
        core = _CORE.get(name)
        if core is not None:
            return ResolvedField(
                name=name,
                owner=None,
                key=name,
                definition=None,
                spec=core.spec,
                filter_value=_utc_day(core.column, self.dialect) if core.by_day else core.column,
                sort_value=core.column,
                sort_type=core.sort_type,
                display_value=core.column,
            )
        prefix, dot, key = name.partition(".")
        if not dot or not key:
            raise not_visible(name, path)
        if prefix == MINE:
            owner = self.principal.company_id
        else:
            try:
                owner = uuid.UUID(prefix)
            except ValueError:
                raise not_visible(name, path) from None
        return self.space_field(owner, key, name=name, path=path)

    def space_field(
        self, owner: uuid.UUID, key: str, *, name: str | None = None, path: str = "field"
    ) -> ResolvedField:
        """Field `key` of `owner`'s space, masked; 400 unless the caller may see it."""
        mine = owner == self.principal.company_id
        name = name or (f"{MINE}.{key}" if mine else f"{owner}.{key}")
        template = self.template_of(owner)
        definition = template.by_key.get(key) if key in self.visible_keys(owner) else None
        if definition is None:
            hidden_by_preference = (
                mine and self.principal.hide_private and key in self.own_template.by_key
            )
            hint = " (your own private fields are hidden while 'hide private fields' is on)"
            raise not_visible(name, path, hint if hidden_by_preference else "")
        space = self.space(owner)
        shown_to_self = key in self.own_visible

        def mask(value: Any) -> ColumnElement[Any]:
            return fields.masked(
                space, self.kind, key, self.principal, value, shown_to_self=shown_to_self
            )

        if definition.is_standard:
            value = mask(fields.standard_value(space, key))
            return ResolvedField(
                name=name,
                owner=owner,
                key=key,
                definition=definition,
                spec=catalog(template)[key],
                filter_value=value,
                sort_value=value,
                sort_type=_STANDARD_SORT.get(key, "text"),
                display_value=value,
                currency_value=mask(space.currency) if key == "amount" else None,
            )
        money = definition.type == FieldType.MONEY  # stored as {"value", "currency"}
        typed = mask(fields.custom_value(space, key, definition.type))
        sort_type = _CUSTOM_SORT.get(definition.type) if definition.type else None
        return ResolvedField(
            name=name,
            owner=owner,
            key=key,
            definition=definition,
            spec=None if money else catalog(template)[key],
            filter_value=typed,
            sort_value=typed if sort_type else None,
            sort_type=sort_type,
            # JSON keeps numbers as stored (3, not 3.0); SQLite's JSON gives booleans as 1/0
            display_value=typed
            if definition.type == FieldType.BOOL
            else mask(fields.custom_json(space, key)),
        )


# --- filter ------------------------------------------------------------------------------------


def _named_fields(data: object, path: str, depth: int = 1) -> list[tuple[str, str]]:
    """(field name, path) of every leaf, walked as `conditions.parse` walks (it checks the rest)."""
    if depth > conditions.MAX_DEPTH + 1 or not isinstance(data, dict):
        return []
    group = next((key for key in ("all", "any", "not") if key in data), None)
    if group is None:
        name = data.get("field")
        return [(name, f"{path}.field")] if isinstance(name, str) else []
    if group == "not":
        return _named_fields(data["not"], f"{path}.not", depth + 1)
    children = data[group]
    if not isinstance(children, list):
        return []
    found: list[tuple[str, str]] = []
    for index, child in enumerate(children):
        found.extend(_named_fields(child, f"{path}.{group}.{index}", depth + 1))
    return found


def parse_filter(
    resolver: FieldResolver, text: str | None, path: str = "query.filter"
) -> ColumnElement[bool] | None:
    """The filter as SQL over masked values: 422 for malformed JSON or conditions, 400 for a
    field the caller cannot see."""
    if text is None or not text.strip():
        return None
    if len(text) > MAX_FILTER_LENGTH:
        _invalid(path, f"must be at most {MAX_FILTER_LENGTH} characters")
    try:
        data = text_input.loads(text, path)
    except text_input.UnstorableTextError as exc:
        raise exc.problem() from None
    except (ValueError, RecursionError) as exc:
        _invalid(path, f"is not valid JSON ({type(exc).__name__}): send a condition object")
    resolved: dict[str, ResolvedField] = {}
    for name, field_path in _named_fields(data, path):
        if name in resolved:
            continue
        field = resolver.resolve(name, field_path)
        if field.spec is None:
            _invalid(field_path, f"'{name}' (money) cannot be filtered")
        resolved[name] = field
    catalog_ = {name: field.spec for name, field in resolved.items() if field.spec is not None}
    condition = conditions.parse(data, catalog_, path=path)
    return conditions.to_sql(condition, {name: f.filter_value for name, f in resolved.items()})


# --- sort --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SortTerm:
    field: ResolvedField
    value: ColumnElement[Any]
    descending: bool


@dataclass(frozen=True)
class Sort:
    terms: tuple[SortTerm, ...] = ()
    id_descending: bool = False

    @property
    def signature(self) -> str:
        parts = [("-" if t.descending else "") + t.field.name for t in self.terms]
        return ",".join([*parts, "-id" if self.id_descending else "id"])


def parse_sort(resolver: FieldResolver, text: str | None, path: str = "query.sort") -> Sort:
    if text is None or not text.strip():
        return Sort()
    if len(text) > MAX_SORT_LENGTH:
        _invalid(path, f"must be at most {MAX_SORT_LENGTH} characters")
    items = [item.strip() for item in text.split(",")]
    if sum(1 for item in items if item.removeprefix("-").strip() != ID) > MAX_SORT_FIELDS:
        _invalid(path, f"sorts on at most {MAX_SORT_FIELDS} fields (plus id)")
    terms: list[SortTerm] = []
    seen: set[str] = set()
    id_descending = False
    for index, item in enumerate(items):
        descending = item.startswith("-")
        name = item[1:].strip() if descending else item
        if not name:
            _invalid(path, "has an empty field name; write e.g. -mine.amount,title")
        if name in seen:
            _invalid(path, f"names '{name}' twice")
        seen.add(name)
        if name == ID:
            if index != len(items) - 1:
                _invalid(path, "id breaks ties, so it can only come last")
            id_descending = descending
            continue
        field = resolver.resolve(name, path)
        if field.sort_value is None:
            _invalid(path, f"'{name}' cannot be sorted on (a list or money value)")
        terms.append(SortTerm(field, field.sort_value, descending))
    return Sort(tuple(terms), id_descending)


# --- cursors -----------------------------------------------------------------------------------


def _encode_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"cannot put {type(value).__name__} in a cursor")  # pragma: no cover


def _restore_value(value: Any, sort_type: SortType) -> Any:
    """A cursor value as its column's type; ValueError/TypeError for anything else."""
    if value is None:
        return None
    if sort_type == "bool":
        if not isinstance(value, bool):
            raise TypeError("not a boolean")
        return value
    if sort_type == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError("not a number")
        if not math.isfinite(value):
            raise ValueError("not finite")
        return float(value)
    if not isinstance(value, str) or "\x00" in value:
        raise TypeError("not text")
    if sort_type == "decimal":
        number = Decimal(value)
        if not number.is_finite() or number.adjusted() >= MAX_EXPONENT:
            raise ValueError("not an amount")  # no stored amount is that large
        return number
    if sort_type == "date":
        return date.fromisoformat(value)
    if sort_type == "datetime":
        instant = datetime.fromisoformat(value)
        if instant.tzinfo is None:
            raise ValueError("naive timestamp")
        return instant
    if sort_type == "uuid":
        return uuid.UUID(value)
    return value


def encode_cursor(sort: Sort, values: Sequence[Any], record_id: uuid.UUID) -> str:
    payload = {
        "sort": sort.signature,
        "after": [_encode_value(v) for v in values],
        "id": str(record_id),
    }
    raw = json.dumps(payload, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(sort: Sort, cursor: str) -> tuple[list[Any], uuid.UUID]:
    path = "query.cursor"
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = text_input.loads(base64.urlsafe_b64decode(padded.encode()), path)
        if not isinstance(payload, dict):
            raise TypeError("not an object")
        signature, after, record_id = payload.get("sort"), payload.get("after"), payload["id"]
        if not isinstance(after, list) or not isinstance(record_id, str):
            raise TypeError("wrong shape")
    except (ValueError, TypeError, KeyError, binascii.Error, RecursionError):
        raise invalid(path, "is not a cursor this list gave out") from None
    if signature != sort.signature or len(after) != len(sort.terms):
        raise invalid(
            path, "was made for another sort order: keep the same sort, or start without a cursor"
        )
    try:
        values = [
            _restore_value(v, t.field.sort_type or "text")
            for v, t in zip(after, sort.terms, strict=True)
        ]
        return values, uuid.UUID(record_id)
    except (ValueError, TypeError, InvalidOperation):
        raise invalid(path, "is not a cursor this list gave out") from None


# --- the query ---------------------------------------------------------------------------------


@dataclass
class ListQuery:
    """Visible records of one kind for one principal, filtered and sorted over masked values."""

    resolver: FieldResolver
    where: ColumnElement[bool] | None
    sort: Sort

    @property
    def principal(self) -> Principal:
        return self.resolver.principal

    def statement(self, *columns: Any) -> Select[Any]:
        """The gate's select of visible records (or of `columns` over them), with the spaces the
        filter and sort use joined and the filter applied. Not ordered."""
        statement: Select[Any] = gate.visible(self.principal, self.resolver.kind)
        if columns:
            statement = statement.with_only_columns(*columns)
        statement = self.resolver.join(statement)
        if self.where is not None:
            statement = statement.where(self.where)
        return statement

    def count(self, session: Session) -> int:
        return int(session.scalar(self.statement(func.count(RecordAccess.record_id))) or 0)

    def _order(self) -> list[ColumnElement[Any]]:
        order: list[ColumnElement[Any]] = []
        for term in self.sort.terms:
            order.append(term.value.is_(None))  # NULLs last, in either direction
            order.append(term.value.desc() if term.descending else term.value.asc())
        record_id = RecordAccess.record_id
        order.append(record_id.desc() if self.sort.id_descending else record_id.asc())
        return order

    def _after(self, values: Sequence[Any], record_id: uuid.UUID) -> ColumnElement[bool]:
        """Rows strictly after (values, record_id) in the order of `_order()`."""
        clauses: list[ColumnElement[bool]] = []
        same: list[ColumnElement[bool]] = []
        for term, value in zip(self.sort.terms, values, strict=True):
            column = term.value
            if value is None:
                same.append(column.is_(None))  # NULLs are last: only NULLs tie with a NULL
                continue
            beyond = column < value if term.descending else column > value
            clauses.append(and_(*same, or_(column.is_(None), beyond)))
            same.append(column == value)
        id_column = RecordAccess.record_id
        id_beyond = id_column < record_id if self.sort.id_descending else id_column > record_id
        clauses.append(and_(*same, id_beyond))
        return or_(false(), *clauses)

    def _rows_after(
        self,
        session: Session,
        limit: int,
        after: tuple[Sequence[Any], uuid.UUID] | None,
        columns: Sequence[Any],
    ) -> tuple[list[tuple[Any, ...]], tuple[list[Any], uuid.UUID] | None]:
        """Up to `limit` rows of `columns` after the position `after`, and the position of the
        last row when more follow."""
        sort_values = [term.value for term in self.sort.terms]
        statement = self.statement(*columns, *sort_values, RecordAccess.record_id)
        if after is not None:
            statement = statement.where(self._after(*after))
        statement = statement.order_by(*self._order()).limit(limit + 1)
        rows = [tuple(row) for row in session.execute(statement)]
        width = len(columns)
        if len(rows) <= limit:
            return [row[:width] for row in rows], None
        last = rows[limit - 1]
        return [row[:width] for row in rows[:limit]], (list(last[width:-1]), last[-1])

    def page(
        self, session: Session, *, limit: int, cursor: str | None
    ) -> tuple[list[tuple[Record]], str | None]:
        """One page of records (API limits apply) and the cursor of the next page."""
        check_limit(limit)
        after = decode_cursor(self.sort, cursor) if cursor else None
        rows, last = self._rows_after(session, limit, after, [Record])
        next_cursor = encode_cursor(self.sort, *last) if last is not None else None
        return [(row[0],) for row in rows], next_cursor

    def batches(
        self, session: Session, columns: Sequence[Any], size: int
    ) -> Iterator[list[tuple[Any, ...]]]:
        """Every row of `columns`, in order, `size` rows per batch (keyset, for exports)."""
        after: tuple[list[Any], uuid.UUID] | None = None
        while True:
            rows, after = self._rows_after(session, size, after, columns)
            yield rows
            if after is None:
                return


def build(
    session: Session,
    principal: Principal,
    kind: str,
    *,
    filter_text: str | None = None,
    sort_text: str | None = None,
) -> ListQuery:
    """The list query for `?filter=&sort=`: 422 malformed, 400 for a field the caller cannot see."""
    resolver = FieldResolver(session, principal, kind)
    where = parse_filter(resolver, filter_text)
    sort = parse_sort(resolver, sort_text)
    return ListQuery(resolver, where, sort)
