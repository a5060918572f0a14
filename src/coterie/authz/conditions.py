"""The condition language of access rules, auto-share rules and filters ("rules as data").

This module owns one small, closed language and its three readers, which must agree on every
row: `parse` (the only way in: structure and meaning, checked against a field catalog),
`evaluate` (plain Python over one record's attributes) and `to_sql` (a SQLAlchemy boolean for
SQLite and PostgreSQL). `referenced_fields` lists the fields a condition mentions, so callers can
refuse a rule or filter on a field the author may not see.

JSON shape (what API clients send; `model_dump()` of a parsed condition gives it back):
    {"all": [cond, ...]}   and; an empty list is true
    {"any": [cond, ...]}   or; an empty list is false
    {"not": cond}
    {"field": KEY, "op": OP, "value": V}   OP: eq ne in not_in lt lte gt gte between
                                            is_null is_not_null (no value) contains
                                            contains_any starts_with

Null semantics are two-valued, not SQL's three-valued logic: every comparison on a missing or
null value is FALSE, including "ne", "not_in", "contains" and "starts_with" (a record without a
region is not "region ne emea"). "not" negates that two-valued result, so
{"not": {"field": "region", "op": "eq", "value": "emea"}} is TRUE for a null region. To include
nulls in a negative rule, say so:
    {"any": [{"field": "region", "op": "ne", "value": "emea"},
             {"field": "region", "op": "is_null"}]}
A multi_enum holding [] is a value, not null; in a JSON column, a missing key and JSON null are
both null. In SQL every leaf compiles to an expression that is never NULL, so NOT behaves exactly
as in Python.

Limits, so that a rule cannot be a denial of service: MAX_DEPTH levels of nesting, MAX_LEAVES
comparisons, MAX_NODES parts in all, MAX_LIST_VALUES values in a list, MAX_TEXT_LENGTH characters
in a text value. Null checks on a field the catalog marks `nullable=False` are rejected as
meaningless.

Comparisons: text "eq"/"in" are exact (case-sensitive). "starts_with" ignores the case of the
ASCII letters A-Z only; other characters must match exactly, because SQLite's lower() folds only
ASCII while PostgreSQL's folds per locale, and both engines must give one answer. Numbers compare
as decimals; a number in a condition has at most 15 significant digits and lies within
+-10^15 (resolution 10^-15), which keeps exact NUMERIC and binary-float (SQLite REAL, JSON)
comparisons in agreement.

Attributes for `evaluate`: None for missing or null; numbers as int, float or Decimal (money: the
amount); dates as datetime.date; multi_enum as list[str]; user/company/uuid as uuid.UUID; text as
str. Columns for `to_sql`: typed columns, or JSON sub-elements such as
`table.c.custom["key"].as_string()` / `.as_float()` / `.as_boolean()`; dates and UUIDs kept as
JSON strings must be canonical (ISO "YYYY-MM-DD", lowercase UUID). A multi_enum column is the
JSON element itself, e.g. `table.c.custom["tags"]`.
"""

from __future__ import annotations

import math
import operator
import re
import string
import uuid
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal, NoReturn, TypeAlias, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    Tag,
    TypeAdapter,
)
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    cast,
    exists,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
)
from sqlalchemy import select as sql_select
from sqlalchemy import true as sql_true
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import array as pg_array
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import sqltypes
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from coterie.fields.definitions import FieldType
from coterie.kit.problems import invalid

MAX_DEPTH = 8
MAX_LEAVES = 100
MAX_NODES = 3 * MAX_LEAVES  # groups and nots count too: no million empty {"all": []}
MAX_LIST_VALUES = 200
MAX_TEXT_LENGTH = 1000
MAX_NUMBER_DIGITS = 15
PROBLEM_SLUG = "invalid-condition"

CoreType = Literal["company", "uuid"]
"""Types only fields of the shared core have (a company, an id); every other field is of a
template `FieldType`."""
SpecType: TypeAlias = FieldType | CoreType


@dataclass(frozen=True)
class FieldSpec:
    """What a condition may say about one field: its type, enum options, whether it can be null."""

    type: SpecType
    options: Sequence[str] | None = None
    nullable: bool = True


FieldCatalog: TypeAlias = Mapping[str, FieldSpec]

# --- the condition tree ------------------------------------------------------------------------

_NODE_CONFIG = ConfigDict(
    frozen=True, extra="forbid", validate_by_name=True, validate_by_alias=True,
    serialize_by_alias=True,
)  # fmt: skip

DateValue = Annotated[date, PlainSerializer(date.isoformat, return_type=str)]
UuidValue = Annotated[uuid.UUID, PlainSerializer(str, return_type=str)]
Scalar: TypeAlias = StrictBool | StrictInt | StrictFloat | StrictStr | DateValue | UuidValue

CompareOp = Literal["eq", "ne", "lt", "lte", "gt", "gte", "contains", "starts_with"]
ListOp = Literal["in", "not_in", "contains_any"]
NullOp = Literal["is_null", "is_not_null"]


class AllOf(BaseModel):
    model_config = _NODE_CONFIG
    all: list[Condition]


class AnyOf(BaseModel):
    model_config = _NODE_CONFIG
    any: list[Condition]


class Not(BaseModel):
    model_config = _NODE_CONFIG
    not_: Condition = Field(alias="not")


class Compare(BaseModel):
    model_config = _NODE_CONFIG
    field: str
    op: CompareOp
    value: Scalar


class Membership(BaseModel):
    model_config = _NODE_CONFIG
    field: str
    op: ListOp
    value: list[Scalar]


class Between(BaseModel):
    model_config = _NODE_CONFIG
    field: str
    op: Literal["between"]
    value: list[Scalar] = Field(min_length=2, max_length=2)


class NullCheck(BaseModel):
    model_config = _NODE_CONFIG
    field: str
    op: NullOp


_LEAF_KIND_BY_OP = {
    **dict.fromkeys(get_args(CompareOp), "compare"),
    **dict.fromkeys(get_args(ListOp), "membership"),
    **dict.fromkeys(get_args(NullOp), "null"),
    "between": "between",
}
_KIND_BY_CLASS: dict[type[BaseModel], str] = {
    AllOf: "all", AnyOf: "any", Not: "not", Compare: "compare", Membership: "membership",
    Between: "between", NullCheck: "null",
}  # fmt: skip


def _kind(node: Any) -> str | None:
    if isinstance(node, BaseModel):
        return _KIND_BY_CLASS.get(type(node))
    if isinstance(node, dict):
        group = next((key for key in ("all", "any", "not") if key in node), None)
        op = node.get("op")
        return group or (_LEAF_KIND_BY_OP.get(op) if isinstance(op, str) else None)
    return None


Condition: TypeAlias = Annotated[
    Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[Not, Tag("not")]
    | Annotated[Compare, Tag("compare")]
    | Annotated[Membership, Tag("membership")]
    | Annotated[Between, Tag("between")]
    | Annotated[NullCheck, Tag("null")],
    Discriminator(_kind),
]
Leaf: TypeAlias = Compare | Membership | Between | NullCheck

for _model in (AllOf, AnyOf, Not):
    _model.model_rebuild()
_CONDITION: TypeAdapter[Condition] = TypeAdapter(Condition)

# --- parse: structure and meaning --------------------------------------------------------------

_EQUALITY = frozenset({"eq", "ne", "in", "not_in"})
_ORDERING = frozenset({"lt", "lte", "gt", "gte", "between"})
_NULL_OPS = frozenset(get_args(NullOp))
_OPS_BY_TYPE: dict[str, frozenset[str]] = {
    "text": _EQUALITY | {"starts_with"},
    "long_text": _EQUALITY | {"starts_with"},
    "number": _EQUALITY | _ORDERING,
    "money": _EQUALITY | _ORDERING,
    "date": _EQUALITY | _ORDERING,
    "enum": _EQUALITY,
    "multi_enum": frozenset({"contains", "contains_any"}),
    "bool": frozenset({"eq", "ne"}),
    "user": _EQUALITY,
    "company": _EQUALITY,
    "uuid": _EQUALITY,
}
_ALL_OPS = frozenset(_LEAF_KIND_BY_OP)
_LEAF_KEYS = frozenset({"field", "op", "value"})
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def parse(data: object, catalog: FieldCatalog, path: str = "body.condition") -> Condition:
    """Check `data` (JSON, or a condition model) against `catalog`; raise a 422 Problem naming the
    exact path of the first error."""
    if isinstance(data, BaseModel):
        data = data.model_dump()
    cleaned = _Parser(catalog).node(data, path, depth=1)
    return _CONDITION.validate_python(cleaned)


class _Parser:
    def __init__(self, catalog: FieldCatalog) -> None:
        self.catalog = catalog
        self.leaves = 0
        self.nodes = 0

    def node(self, data: object, path: str, depth: int) -> dict[str, Any]:
        self.nodes += 1
        if depth > MAX_DEPTH:
            _fail(path, f"conditions nest at most {MAX_DEPTH} levels deep")
        if self.nodes > MAX_NODES:
            _fail(path, f"a condition holds at most {MAX_NODES} parts")
        if not isinstance(data, dict):
            _fail(path, "must be an object")
        group = next((key for key in ("all", "any", "not") if key in data), None)
        if group is None:
            return self.leaf(data, path)
        for key in data:
            if key != group:
                _fail(f"{path}.{key}", f"unexpected key next to '{group}'")
        if group == "not":
            return {"not": self.node(data["not"], f"{path}.not", depth + 1)}
        children = data[group]
        if not isinstance(children, list):
            _fail(f"{path}.{group}", "must be a list of conditions")
        return {
            group: [
                self.node(child, f"{path}.{group}.{index}", depth + 1)
                for index, child in enumerate(children)
            ]
        }

    def leaf(self, data: dict[Any, Any], path: str) -> dict[str, Any]:
        self.leaves += 1
        if self.leaves > MAX_LEAVES:
            _fail(path, f"a condition holds at most {MAX_LEAVES} comparisons")
        for key in data:
            if key not in _LEAF_KEYS:
                _fail(f"{path}.{key}", "unknown key; expected all, any, not or field/op/value")
        field, op = data.get("field"), data.get("op")
        if not isinstance(field, str):
            _fail(f"{path}.field", "required" if field is None else "must be a string")
        spec = self.catalog.get(field)
        if spec is None:
            _fail(f"{path}.field", f"unknown field '{field}'")
        if not isinstance(op, str) or op not in _ALL_OPS:
            _fail(f"{path}.op", f"must be one of {', '.join(sorted(_ALL_OPS))}")
        if op in _NULL_OPS:
            if not spec.nullable:
                _fail(f"{path}.op", f"field '{field}' is never null")
            if "value" in data:
                _fail(f"{path}.value", f"'{op}' takes no value")
            return {"field": field, "op": op}
        if op not in _OPS_BY_TYPE[spec.type]:
            _fail(f"{path}.op", f"'{op}' does not apply to the {spec.type} field '{field}'")
        if "value" not in data:
            _fail(f"{path}.value", "required")
        return {"field": field, "op": op, "value": _value(spec, op, data["value"], f"{path}.value")}


def _value(spec: FieldSpec, op: str, raw: object, path: str) -> object:
    if op in ("in", "not_in", "contains_any"):
        if not isinstance(raw, list):
            _fail(path, "must be a list")
        if not raw:
            _fail(path, "must not be empty")
        if len(raw) > MAX_LIST_VALUES:
            _fail(path, f"holds at most {MAX_LIST_VALUES} values")
        return [_scalar(spec, item, f"{path}.{index}") for index, item in enumerate(raw)]
    if op == "between":
        if not isinstance(raw, list) or len(raw) != 2:
            _fail(path, "must be [low, high]")
        low, high = (_scalar(spec, item, f"{path}.{index}") for index, item in enumerate(raw))
        if _comparable(low) > _comparable(high):
            _fail(path, "low bound is greater than high bound")
        return [low, high]
    return _scalar(spec, raw, path)


def _scalar(spec: FieldSpec, raw: object, path: str) -> object:
    kind = spec.type
    if kind in ("text", "long_text"):
        if not isinstance(raw, str):
            _fail(path, "must be a string")
        if len(raw) > MAX_TEXT_LENGTH or "\x00" in raw:
            _fail(path, f"must be at most {MAX_TEXT_LENGTH} characters, without NUL")
        return raw
    if kind in ("number", "money"):
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            _fail(path, "must be a number")
        if not _number_in_range(raw):
            _fail(
                path,
                f"must have at most {MAX_NUMBER_DIGITS} significant digits and lie within "
                f"+-10^{MAX_NUMBER_DIGITS} (resolution 10^-{MAX_NUMBER_DIGITS})",
            )
        return raw
    if kind == "date":
        if not isinstance(raw, str) or not _ISO_DATE.fullmatch(raw):
            _fail(path, "must be a date as YYYY-MM-DD")
        try:
            return date.fromisoformat(raw)
        except ValueError:
            _fail(path, "must be a valid calendar date")
    if kind in ("enum", "multi_enum"):
        if not isinstance(raw, str) or raw not in (spec.options or ()):
            _fail(path, f"must be one of the options: {', '.join(spec.options or ())}")
        return raw
    if kind == "bool":
        if not isinstance(raw, bool):
            _fail(path, "must be true or false")
        return raw
    if not isinstance(raw, str) or not _UUID.fullmatch(raw):
        _fail(path, "must be a UUID")
    return uuid.UUID(raw)


def _number_in_range(number: int | float) -> bool:
    if isinstance(number, float) and not math.isfinite(number):
        return False
    decimal: Decimal = _comparable(number)
    if decimal.is_zero():
        return True
    _, digits, exponent = decimal.normalize().as_tuple()
    return (
        len(digits) <= MAX_NUMBER_DIGITS
        and abs(decimal) < 10**MAX_NUMBER_DIGITS
        and isinstance(exponent, int)
        and exponent >= -MAX_NUMBER_DIGITS
    )


def _fail(path: str, message: str) -> NoReturn:
    raise invalid(path, message, PROBLEM_SLUG)


# --- evaluate: plain Python --------------------------------------------------------------------

_ASCII_LETTERS = (string.ascii_uppercase, string.ascii_lowercase)
_ASCII_LOWER = str.maketrans(*_ASCII_LETTERS)


def _comparable(value: Any) -> Any:
    """Numbers as exact decimals (a float by its shortest repr); everything else unchanged."""
    cls = type(value)
    if cls is str or cls is Decimal or cls is date:  # the common cases, decided by type alone
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return value


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "lte": operator.le,
    "gt": operator.gt, "gte": operator.ge,
}  # fmt: skip

Predicate: TypeAlias = Callable[[Mapping[str, Any]], bool]

# Compiled predicates by id() of the condition object. The models are frozen but hold lists (so
# they are unhashable), and a private attribute would take part in ==; a weak reference both
# proves the id still names the same object and drops the entry when the condition dies.
_COMPILED: dict[int, tuple[weakref.ref[Any], Predicate]] = {}


def evaluate(cond: Condition, attrs: Mapping[str, Any]) -> bool:
    """Whether a record with these attributes matches `cond` (two-valued; see module docstring)."""
    hit = _COMPILED.get(id(cond))
    if hit is not None and hit[0]() is cond:
        return hit[1](attrs)
    return compile_predicate(cond)(attrs)


def compile_predicate(cond: Condition) -> Predicate:
    """`evaluate` bound to `cond`: the tree turned once into closures over pre-converted constants
    (decimals, sets, folded prefixes), cached for as long as `cond` lives."""
    key = id(cond)
    hit = _COMPILED.get(key)
    if hit is not None and hit[0]() is cond:
        return hit[1]
    predicate = _compile(cond)

    def forget(ref: weakref.ref[Any]) -> None:
        entry = _COMPILED.get(key)
        if entry is not None and entry[0] is ref:
            del _COMPILED[key]

    _COMPILED[key] = (weakref.ref(cond, forget), predicate)
    return predicate


def _compile(cond: Condition) -> Predicate:
    match cond:
        case AllOf():
            return _all_of(tuple(_compile(child) for child in cond.all))
        case AnyOf():
            return _any_of(tuple(_compile(child) for child in cond.any))
        case Not():
            return _not(_compile(cond.not_))
    return _compile_leaf(cond)


def _all_of(children: tuple[Predicate, ...]) -> Predicate:
    if len(children) == 1:
        return children[0]

    def all_of(attrs: Mapping[str, Any]) -> bool:
        for child in children:  # noqa: SIM110 (a loop is faster than all() of a generator)
            if not child(attrs):
                return False
        return True

    return all_of


def _any_of(children: tuple[Predicate, ...]) -> Predicate:
    if len(children) == 1:
        return children[0]

    def any_of(attrs: Mapping[str, Any]) -> bool:
        for child in children:  # noqa: SIM110 (a loop is faster than any() of a generator)
            if child(attrs):
                return True
        return False

    return any_of


def _not(child: Predicate) -> Predicate:
    def negated(attrs: Mapping[str, Any]) -> bool:
        return not child(attrs)

    return negated


def _compile_leaf(cond: Leaf) -> Predicate:
    field = cond.field
    if isinstance(cond, NullCheck):
        if cond.op == "is_null":
            return lambda attrs: attrs.get(field) is None
        return lambda attrs: attrs.get(field) is not None
    if isinstance(cond, Between):
        low, high = (_comparable(bound) for bound in cond.value)

        def between(attrs: Mapping[str, Any]) -> bool:
            actual = attrs.get(field)
            return actual is not None and bool(low <= _comparable(actual) <= high)

        return between
    if isinstance(cond, Membership):
        if cond.op == "contains_any":
            options = tuple(cond.value)

            def contains_any(attrs: Mapping[str, Any]) -> bool:
                actual = attrs.get(field)
                return isinstance(actual, list) and any(option in actual for option in options)

            return contains_any
        values = frozenset(_comparable(item) for item in cond.value)
        if cond.op == "in":

            def in_(attrs: Mapping[str, Any]) -> bool:
                actual = attrs.get(field)
                if actual is None:
                    return False
                return (actual if type(actual) is str else _comparable(actual)) in values

            return in_

        def not_in(attrs: Mapping[str, Any]) -> bool:
            actual = attrs.get(field)
            if actual is None:
                return False
            return (actual if type(actual) is str else _comparable(actual)) not in values

        return not_in
    value = cond.value
    if cond.op == "contains":

        def contains(attrs: Mapping[str, Any]) -> bool:
            actual = attrs.get(field)
            return isinstance(actual, list) and value in actual

        return contains
    if cond.op == "starts_with":
        prefix = str(value).translate(_ASCII_LOWER)
        size = len(prefix)

        def starts_with(attrs: Mapping[str, Any]) -> bool:
            actual = attrs.get(field)
            if not isinstance(actual, str):
                return False
            # Folding maps one character to one, so folding only the head is the same test; on
            # ASCII text str.lower() folds exactly A-Z, and faster than translate.
            head = actual[:size]
            return (head.lower() if head.isascii() else head.translate(_ASCII_LOWER)) == prefix

        return starts_with
    compare = _BINARY[cond.op]
    expected = _comparable(value)

    def binary(attrs: Mapping[str, Any]) -> bool:
        actual = attrs.get(field)
        if actual is None:
            return False
        cls = type(actual)
        if cls is not str and cls is not Decimal and cls is not date:  # else already comparable
            actual = _comparable(actual)
        return bool(compare(actual, expected))

    return binary


def referenced_fields(cond: Condition) -> set[str]:
    """Every field key the condition mentions."""
    match cond:
        case AllOf():
            return set().union(*(referenced_fields(child) for child in cond.all))
        case AnyOf():
            return set().union(*(referenced_fields(child) for child in cond.any))
        case Not():
            return referenced_fields(cond.not_)
    return {cond.field}


# --- to_sql: one boolean expression, never NULL ------------------------------------------------


def to_sql(cond: Condition, columns: Mapping[str, ColumnElement[Any]]) -> ColumnElement[bool]:
    """`cond` as a SQLAlchemy boolean over the caller's column expressions, for SQLite and
    PostgreSQL. Raises KeyError when a referenced field has no column (a programming error)."""
    match cond:
        case AllOf():
            return and_(sql_true(), *(to_sql(child, columns) for child in cond.all))
        case AnyOf():
            return or_(false(), *(to_sql(child, columns) for child in cond.any))
        case Not():
            return not_(to_sql(cond.not_, columns))
    return _leaf_sql(cond, columns)


def _leaf_sql(cond: Leaf, columns: Mapping[str, ColumnElement[Any]]) -> ColumnElement[bool]:
    if cond.field not in columns:
        raise KeyError(f"no column given for condition field '{cond.field}'")
    column = columns[cond.field]
    is_json = isinstance(column.type, sqltypes.JSON)
    if isinstance(cond, NullCheck):
        null: ColumnElement[bool] = column.is_(None)
        if is_json:  # a JSON element holding JSON null is not SQL NULL
            null = or_(null, _JsonTypeOf(column) == literal_column("'null'"))
        return null if cond.op == "is_null" else not_(null)
    if cond.op in ("contains", "contains_any"):
        if not is_json:
            raise TypeError(f"field '{cond.field}': a multi_enum column must be a JSON element")
        options = cond.value if isinstance(cond.value, list) else [cond.value]
        return _JsonArrayHasAny(column, *options)
    if is_json:
        raise TypeError(
            f"field '{cond.field}': pass a scalar JSON element (.as_string(), .as_float(), "
            "...) for this operator, not the JSON element itself"
        )
    present = column.is_not(None)
    if isinstance(cond, Between):
        low, high = (_bind_value(column, bound) for bound in cond.value)
        return and_(present, column.between(low, high))
    if isinstance(cond, Membership):
        values = [_bind_value(column, item) for item in cond.value]
        return and_(present, column.in_(values) if cond.op == "in" else column.not_in(values))
    if cond.op == "starts_with":
        prefix = str(cond.value).translate(_ASCII_LOWER)
        return and_(present, _AsciiLower(column).startswith(prefix, autoescape=True))
    return and_(present, _BINARY[cond.op](column, _bind_value(column, cond.value)))


def _bind_value(column: ColumnElement[Any], value: object) -> object:
    """`value` in a form the column compares with exactly as `evaluate` does."""
    if isinstance(value, date | uuid.UUID) and isinstance(column.type, sqltypes.String):
        return str(value)  # a date or UUID kept as a JSON string: canonical text compares
    if isinstance(value, int | float) and not isinstance(value, bool):
        # Typed explicitly: SQLAlchemy types an IN list by its first value, so [1, 0.1] against
        # a FLOAT became "IN (1::INTEGER, 0.1::INTEGER)" on PostgreSQL, i.e. IN (1, 0). NUMERIC
        # and INTEGER columns compare with an exact, unconstrained decimal (never NUMERIC(18, 2),
        # which would round the value).
        if isinstance(column.type, sqltypes.Float):
            return literal(value, sqltypes.Float())
        return literal(_comparable(value), sqltypes.Numeric())
    return value


class _JsonTypeOf(FunctionElement[str]):
    """The JSON type name of a JSON value ('null', 'array', ...); NULL for SQL NULL."""

    type = sqltypes.String()
    inherit_cache = True
    name = "json_type_of"


class _JsonArrayHasAny(FunctionElement[bool]):
    """Whether a JSON value is an array holding any of the given strings; never NULL."""

    type = sqltypes.Boolean()
    inherit_cache = True
    name = "json_array_has_any"


class _AsciiLower(FunctionElement[str]):
    """Text with A-Z folded to a-z and every other character unchanged."""

    type = sqltypes.String()
    inherit_cache = True
    name = "ascii_lower"


@compiles(_JsonTypeOf)
@compiles(_JsonArrayHasAny)
@compiles(_AsciiLower)
def _unsupported(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
    raise CompileError(f"conditions compile for SQLite and PostgreSQL, not {compiler.dialect.name}")


@compiles(_JsonTypeOf, "sqlite")
def _json_type_of_sqlite(element: _JsonTypeOf, compiler: SQLCompiler, **kw: Any) -> str:
    (document,) = element.clauses
    return compiler.process(func.json_type(document), **kw)


@compiles(_JsonTypeOf, "postgresql")
def _json_type_of_postgresql(element: _JsonTypeOf, compiler: SQLCompiler, **kw: Any) -> str:
    (document,) = element.clauses
    return compiler.process(func.jsonb_typeof(cast(document, JSONB)), **kw)


@compiles(_JsonArrayHasAny, "sqlite")
def _has_any_sqlite(element: _JsonArrayHasAny, compiler: SQLCompiler, **kw: Any) -> str:
    document, *options = element.clauses
    items = func.json_each(document).table_valued("value", "type")
    # json_each also walks a scalar or an object; only an array's string items count.
    matching: Select[Any] = (
        sql_select(literal_column("1"))
        .select_from(items)
        .where(
            _JsonTypeOf(document) == literal_column("'array'"),
            items.c.type == literal_column("'text'"),
            items.c.value.in_(options),
        )
    )
    return compiler.process(exists(matching), **kw)


@compiles(_JsonArrayHasAny, "postgresql")
def _has_any_postgresql(element: _JsonArrayHasAny, compiler: SQLCompiler, **kw: Any) -> str:
    document, *options = element.clauses
    as_jsonb = cast(document, JSONB)
    # ?| also matches a scalar string, hence the array test; coalesce makes SQL NULL false.
    has_any = and_(
        func.jsonb_typeof(as_jsonb) == literal_column("'array'"),
        as_jsonb.has_any(pg_array[Any](options, type_=sqltypes.Text())),
    )
    return compiler.process(func.coalesce(has_any, false()), **kw)


@compiles(_AsciiLower, "sqlite")
def _ascii_lower_sqlite(element: _AsciiLower, compiler: SQLCompiler, **kw: Any) -> str:
    (text,) = element.clauses
    return compiler.process(func.lower(text), **kw)  # SQLite's lower() folds ASCII only


@compiles(_AsciiLower, "postgresql")
def _ascii_lower_postgresql(element: _AsciiLower, compiler: SQLCompiler, **kw: Any) -> str:
    (text,) = element.clauses
    upper, lower = (literal_column(f"'{letters}'", sqltypes.String()) for letters in _ASCII_LETTERS)
    return compiler.process(func.translate(text, upper, lower), **kw)
