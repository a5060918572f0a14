"""The condition language: the parser's 422s name the exact path, and evaluate() and to_sql() agree
row for row on real SQLite and PostgreSQL tables (typed columns and fields inside a JSON column)."""

from __future__ import annotations

import gc
import operator
import secrets
import uuid
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ColumnElement,
    Date,
    Engine,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Uuid,
    case,
    delete,
    insert,
    select,
)

from coterie.authz.conditions import (
    MAX_DEPTH,
    MAX_LEAVES,
    MAX_LIST_VALUES,
    MAX_NODES,
    AllOf,
    AnyOf,
    Between,
    Condition,
    FieldSpec,
    Membership,
    Not,
    NullCheck,
    compile_predicate,
    evaluate,
    parse,
    referenced_fields,
    to_sql,
)
from coterie.db import make_engine
from coterie.kit.problems import Problem

STAGES = ["new", "won", "lost", "Won"]
TAGS = ["red", "green", "blue", "Red"]
USERS = [
    uuid.UUID(int=1),
    uuid.UUID("0f8fad5b-d9cb-469f-a165-70867728950e"),
    uuid.UUID(int=2**128 - 1),
]

CATALOG: dict[str, FieldSpec] = {
    # typed columns
    "name": FieldSpec("text"),
    "amount": FieldSpec("money"),
    "seats": FieldSpec("number"),
    "close": FieldSpec("date"),
    "stage": FieldSpec("enum", options=STAGES),
    "active": FieldSpec("bool"),
    "owner": FieldSpec("user"),
    # inside the JSON column "custom"
    "j_text": FieldSpec("long_text"),
    "j_number": FieldSpec("number"),
    "j_flag": FieldSpec("bool"),
    "j_tags": FieldSpec("multi_enum", options=TAGS),
    "j_date": FieldSpec("date"),
    "j_level": FieldSpec("enum", options=STAGES),
    "j_company": FieldSpec("company"),
}
TYPED = ["name", "amount", "seats", "close", "stage", "active", "owner"]
JSON_FIELDS = [key for key in CATALOG if key.startswith("j_")]

NULL_OPS = ["is_null", "is_not_null"]
EQUALITY = ["eq", "ne", "in", "not_in"]
ORDERING = ["lt", "lte", "gt", "gte", "between"]
OPS_BY_TYPE = {
    "text": [*EQUALITY, "starts_with"],
    "long_text": [*EQUALITY, "starts_with"],
    "money": EQUALITY + ORDERING,
    "number": EQUALITY + ORDERING,
    "date": EQUALITY + ORDERING,
    "enum": EQUALITY,
    "multi_enum": ["contains", "contains_any"],
    "bool": ["eq", "ne"],
    "user": EQUALITY,
    "company": EQUALITY,
}

# --- data ---------------------------------------------------------------------------------------

TEXT_ALPHABET = "aA%_/\\éÉ "
DATE_POOL = [date(1, 1, 1), date(2024, 2, 29), date(2024, 3, 1), date(9999, 12, 31)]
MONEY_POOL = [Decimal("0"), Decimal("0.10"), Decimal("-0.01"), Decimal("9999999999999.99")]
NUMBER_POOL: list[int | float] = [0, -0.0, 0.1, 0.5, 1, -1, 2.25, 1e6, 123456789012.345]

texts = st.text(alphabet=TEXT_ALPHABET, max_size=4)
dates = st.sampled_from(DATE_POOL) | st.dates()
data_values: dict[str, st.SearchStrategy[Any]] = {
    "name": texts,
    "amount": st.sampled_from(MONEY_POOL)
    | st.decimals(min_value=-(10**6), max_value=10**6, places=2),
    "seats": st.sampled_from([0, 1, -1]) | st.integers(-(10**6), 10**6),
    "close": dates,
    "stage": st.sampled_from(STAGES),
    "active": st.booleans(),
    "owner": st.sampled_from(USERS) | st.uuids(),
    "j_text": texts,
    "j_number": st.sampled_from(NUMBER_POOL)
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False),
    "j_flag": st.booleans(),
    "j_tags": st.lists(st.sampled_from(TAGS), max_size=3),
    "j_date": dates,
    "j_level": st.sampled_from(STAGES),
    "j_company": st.sampled_from(USERS) | st.uuids(),
}


@dataclass(frozen=True)
class Row:
    attrs: dict[str, Any]  # what evaluate() sees: None for missing or null
    omit_json_nulls: bool  # a null JSON field stored as a missing key (True) or as JSON null


rows = st.builds(
    Row,
    attrs=st.fixed_dictionaries(
        {key: st.none() | strategy for key, strategy in data_values.items()}
    ),
    omit_json_nulls=st.booleans(),
)


def _json_value(value: Any) -> Any:
    return str(value) if isinstance(value, date | uuid.UUID) else value


def stored(row_id: int, row: Row) -> dict[str, Any]:
    custom = {
        key: _json_value(row.attrs[key])
        for key in JSON_FIELDS
        if not (row.omit_json_nulls and row.attrs[key] is None)
    }
    return {
        "id": row_id,
        **{key: row.attrs[key] for key in TYPED},
        "custom": custom or None,  # None: the whole document is JSON null
    }


# --- conditions (JSON shape, as a client sends them) -------------------------------------------

condition_numbers = (
    st.sampled_from([*NUMBER_POOL, *(float(m) for m in MONEY_POOL)])
    | st.integers(-(10**6), 10**6)
    | st.floats(-1e6, 1e6).map(lambda x: round(x, 3))
)
condition_values: dict[str, st.SearchStrategy[Any]] = {
    "text": st.text(alphabet=TEXT_ALPHABET, max_size=3),
    "long_text": st.text(alphabet=TEXT_ALPHABET, max_size=3),
    "money": condition_numbers,
    "number": condition_numbers,
    "date": dates.map(date.isoformat),
    "enum": st.sampled_from(STAGES),
    "multi_enum": st.sampled_from(TAGS),
    "bool": st.booleans(),
    "user": (st.sampled_from(USERS) | st.uuids()).map(str),
    "company": (st.sampled_from(USERS) | st.uuids()).map(str),
}


def _taken_from_rows(values: list[Any], kind: str) -> st.SearchStrategy[Any]:
    """Condition values seen in the rows, so that comparisons hit as often as they miss."""
    if kind in ("text", "long_text"):
        recase = st.sampled_from([str, str.upper, str.lower, str.swapcase])
        prefixes = st.tuples(st.sampled_from(values), st.integers(0, 4), recase)
        return prefixes.map(lambda t: t[2](t[0][: t[1]]))
    return st.sampled_from(values)


def _as_condition_value(value: Any) -> Any:
    if isinstance(value, date | uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float | int) and not isinstance(value, bool):
        try:
            parse({"field": "j_number", "op": "eq", "value": value}, CATALOG)
        except Problem:
            return None  # outside what a condition may say (digits, range)
    return value


def _seen(data: list[Row]) -> dict[str, list[Any]]:
    seen: dict[str, list[Any]] = {}
    for key, spec in CATALOG.items():
        if spec.type != "multi_enum":
            values = (_as_condition_value(row.attrs[key]) for row in data)
            seen[key] = [value for value in values if value is not None]
    return seen


def _leaf(key: str, op: str, seen: dict[str, list[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    kind = CATALOG[key].type
    scalar = condition_values[kind]
    if seen.get(key):
        scalar = scalar | _taken_from_rows(seen[key], kind)
    if op in NULL_OPS:
        return st.just({"field": key, "op": op})
    if op in ("in", "not_in", "contains_any"):
        value: st.SearchStrategy[Any] = st.lists(scalar, min_size=1, max_size=4)
    elif op == "between":
        value = st.lists(scalar, min_size=2, max_size=2).map(sorted)
    else:
        value = scalar
    return value.map(lambda v: {"field": key, "op": op, "value": v})


FIELDS_BY_OP = {
    op: [key for key, spec in CATALOG.items() if op in OPS_BY_TYPE[spec.type] + NULL_OPS]
    for op in sorted({op for ops in OPS_BY_TYPE.values() for op in ops} | set(NULL_OPS))
}


def conditions(depth: int, seen: dict[str, list[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Conditions with every operator equally likely (a rare operator is not a rare test)."""
    leaves = st.sampled_from(sorted(FIELDS_BY_OP)).flatmap(
        lambda op: st.sampled_from(FIELDS_BY_OP[op]).flatmap(lambda key: _leaf(key, op, seen))
    )
    if depth <= 1:
        return leaves
    child = conditions(depth - 1, seen)
    return st.one_of(
        leaves,
        st.lists(child, max_size=4).map(lambda cs: {"all": cs}),
        st.lists(child, max_size=4).map(lambda cs: {"any": cs}),
        child.map(lambda c: {"not": c}),
    )


# --- a scratch table on each database ----------------------------------------------------------


@dataclass
class Scratch:
    engine: Engine
    table: Table
    columns: dict[str, ColumnElement[Any]]

    def load(self, rows: list[Row]) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(self.table))
            if rows:
                conn.execute(insert(self.table), [stored(i, row) for i, row in enumerate(rows)])

    def sql_ids(self, cond: Condition) -> set[int]:
        query = select(self.table.c.id).where(to_sql(cond, self.columns))
        with self.engine.connect() as conn:
            return set(conn.scalars(query))


@pytest.fixture(scope="module")
def scratch(database_url: str) -> Iterator[Scratch]:
    engine = make_engine(database_url)
    metadata = MetaData()
    table = Table(
        f"test_conditions_{secrets.token_hex(4)}",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("name", String(1000)),
        Column("amount", Numeric(18, 2)),
        Column("seats", Integer),
        Column("close", Date),
        Column("stage", String(20)),
        Column("active", Boolean),
        Column("owner", Uuid),
        Column("custom", JSON),
    )
    custom = table.c.custom
    columns: dict[str, ColumnElement[Any]] = {key: table.c[key] for key in TYPED}
    columns |= {
        "j_text": custom["j_text"].as_string(),
        "j_number": custom["j_number"].as_float(),
        "j_flag": custom["j_flag"].as_boolean(),
        "j_tags": custom["j_tags"],
        "j_date": custom["j_date"].as_string(),
        "j_level": custom["j_level"].as_string(),
        "j_company": custom["j_company"].as_string(),
    }
    metadata.create_all(engine)
    try:
        yield Scratch(engine, table, columns)
    finally:
        metadata.drop_all(engine)
        engine.dispose()


# --- the property: SQL == Python ---------------------------------------------------------------


@given(draw=st.data(), data=st.lists(rows, max_size=12))
def test_sql_agrees_with_python_on_every_row(
    scratch: Scratch, draw: st.DataObject, data: list[Row]
) -> None:
    scratch.load(data)
    strategy = conditions(depth=4, seen=_seen(data))
    for _ in range(draw.draw(st.integers(1, 4), label="how many conditions")):
        raw = draw.draw(strategy, label="condition")
        assert parse(raw, CATALOG).model_dump() == raw
        for part in subconditions(raw):  # a parent's and/or/not can hide a wrong child
            cond = parse(part, CATALOG)
            expected = {i for i, row in enumerate(data) if evaluate(cond, row.attrs)}
            assert scratch.sql_ids(cond) == expected, part


def subconditions(raw: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield raw
    for child in raw.get("all", []) + raw.get("any", []) + ([raw["not"]] if "not" in raw else []):
        yield from subconditions(child)


# --- the compiled predicate == the plain tree walk ----------------------------------------------


def _number(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return value


_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_OPERATORS = {
    "eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "lte": operator.le,
    "gt": operator.gt, "gte": operator.ge,
}  # fmt: skip


def walk(cond: Condition, attrs: dict[str, Any]) -> bool:
    """The reference: evaluate() as a direct walk of the tree, converting on every call."""
    match cond:
        case AllOf():
            return all(walk(child, attrs) for child in cond.all)
        case AnyOf():
            return any(walk(child, attrs) for child in cond.any)
        case Not():
            return not walk(cond.not_, attrs)
    actual = attrs.get(cond.field)
    if isinstance(cond, NullCheck):
        return (actual is None) == (cond.op == "is_null")
    if actual is None:
        return False
    if isinstance(cond, Between):
        low, high = (_number(bound) for bound in cond.value)
        return bool(low <= _number(actual) <= high)
    if isinstance(cond, Membership):
        if cond.op == "contains_any":
            return isinstance(actual, list) and any(option in actual for option in cond.value)
        found = _number(actual) in {_number(item) for item in cond.value}
        return found if cond.op == "in" else not found
    if cond.op == "contains":
        return isinstance(actual, list) and cond.value in actual
    if cond.op == "starts_with":
        prefix = str(cond.value).translate(_FOLD)
        return isinstance(actual, str) and actual.translate(_FOLD).startswith(prefix)
    return bool(_OPERATORS[cond.op](_number(actual), _number(cond.value)))


@given(draw=st.data(), data=st.lists(rows, min_size=1, max_size=12))
def test_compiled_evaluate_agrees_with_the_tree_walk(draw: st.DataObject, data: list[Row]) -> None:
    raw = draw.draw(conditions(depth=4, seen=_seen(data)), label="condition")
    for part in subconditions(raw):
        cond = parse(part, CATALOG)
        for row in data:
            assert evaluate(cond, row.attrs) is walk(cond, row.attrs), (part, row.attrs)


def test_compiled_predicates_are_cached_per_condition_and_dropped_with_it() -> None:
    raw = {
        "any": [
            {"field": "stage", "op": "in", "value": ["won"]},
            {"field": "j_tags", "op": "contains", "value": "red"},
        ]
    }
    cond, twin = parse(raw, CATALOG), parse(raw, CATALOG)
    assert compile_predicate(cond) is compile_predicate(cond)
    assert compile_predicate(cond) is not compile_predicate(twin)
    attrs = {"stage": "won", "j_tags": None}
    assert evaluate(cond, attrs)
    assert evaluate(twin, attrs)
    assert compile_predicate(cond)(attrs)
    assert not evaluate(cond, {"stage": "Won", "j_tags": ["Red"]})
    assert cond == twin  # the cache is no part of the model: equality is unchanged
    assert cond.model_dump() == raw
    dead = weakref.ref(cond)
    del cond
    gc.collect()
    assert dead() is None
    assert compile_predicate(twin)({"stage": None, "j_tags": ["red"]})


# --- truth tables ------------------------------------------------------------------------------


def check(scratch: Scratch, values: list[dict[str, Any]], raw: dict[str, Any]) -> set[int]:
    """Ids matching `raw` over rows made of `values` (other fields null); SQL must equal Python."""
    data = [Row(dict.fromkeys(CATALOG) | v, omit_json_nulls=False) for v in values]
    scratch.load(data)
    cond = parse(raw, CATALOG)
    python = {i for i, row in enumerate(data) if evaluate(cond, row.attrs)}
    assert scratch.sql_ids(cond) == python
    return python


@pytest.mark.parametrize("key", ["stage", "j_level"])
def test_null_is_never_equal_nor_unequal_but_not_negates(scratch: Scratch, key: str) -> None:
    values = [{key: "won"}, {key: "lost"}, {key: None}]
    leaf = {"field": key, "op": "eq", "value": "won"}
    ne = {"field": key, "op": "ne", "value": "won"}
    assert check(scratch, values, leaf) == {0}
    assert check(scratch, values, ne) == {1}
    assert check(scratch, values, {"not": leaf}) == {1, 2}
    assert check(scratch, values, {"not": ne}) == {0, 2}
    assert check(scratch, values, {"field": key, "op": "not_in", "value": ["won"]}) == {1}
    assert check(scratch, values, {"not": {"field": key, "op": "in", "value": ["won"]}}) == {1, 2}
    assert check(scratch, values, {"any": [ne, {"field": key, "op": "is_null"}]}) == {1, 2}
    assert check(scratch, values, {"field": key, "op": "is_not_null"}) == {0, 1}
    assert check(scratch, values, {"all": []}) == {0, 1, 2}
    assert check(scratch, values, {"any": []}) == set()


@pytest.mark.parametrize(("key", "low", "high"), [("amount", 10, 20), ("j_number", 10, 20.0)])
def test_between_includes_both_bounds(scratch: Scratch, key: str, low: Any, high: Any) -> None:
    values = [{key: n} for n in (Decimal("9.99"), 10, Decimal("15.5"), 20, Decimal("20.01"))]
    if key == "j_number":
        values = [{key: float(v[key])} for v in values]
    values.append({key: None})
    between = {"field": key, "op": "between", "value": [low, high]}
    assert check(scratch, values, between) == {1, 2, 3}
    assert check(scratch, values, {"not": between}) == {0, 4, 5}


def test_between_dates_and_a_single_day(scratch: Scratch) -> None:
    values = [
        {"close": date(2024, 2, 28)},
        {"close": date(2024, 2, 29)},
        {"j_date": date(2024, 2, 29)},
    ]
    day = ["2024-02-29", "2024-02-29"]
    assert check(scratch, values, {"field": "close", "op": "between", "value": day}) == {1}
    assert check(scratch, values, {"field": "j_date", "op": "between", "value": day}) == {2}


@pytest.mark.parametrize("key", ["name", "j_text"])
def test_starts_with_escapes_wildcards_and_folds_ascii_case_only(
    scratch: Scratch, key: str
) -> None:
    names = ["100%_off", "100x_off", "100%xoff", "ABC", "abc", "Émile", "émile", "a/b", "a\\b", ""]
    values = [{key: name} for name in [*names, None]]

    def starts(prefix: str) -> set[int]:
        return check(scratch, values, {"field": key, "op": "starts_with", "value": prefix})

    assert starts("100%") == {0, 2}
    assert starts("100%_") == {0}
    assert starts("100_") == set()
    assert starts("abc") == {3, 4}
    assert starts("AB") == {3, 4}
    assert starts("É") == {5}
    assert starts("é") == {6}
    assert starts("a/") == {7}
    assert starts("a\\") == {8}
    assert starts("") == set(range(len(names)))
    assert check(scratch, values, {"field": key, "op": "eq", "value": "abc"}) == {4}


def test_contains_on_multi_enum(scratch: Scratch) -> None:
    values = [
        {"j_tags": ["red", "green"]},
        {"j_tags": ["Red"]},
        {"j_tags": []},
        {"j_tags": None},  # stored as JSON null
        {},  # j_tags: None, stored as JSON null too
    ]
    assert check(scratch, values, {"field": "j_tags", "op": "contains", "value": "red"}) == {0}
    assert check(scratch, values, {"field": "j_tags", "op": "contains", "value": "Red"}) == {1}
    anyof = {"field": "j_tags", "op": "contains_any", "value": ["blue", "Red", "green"]}
    assert check(scratch, values, anyof) == {0, 1}
    assert check(scratch, values, {"not": anyof}) == {2, 3, 4}
    assert check(scratch, values, {"field": "j_tags", "op": "is_null"}) == {3, 4}
    assert check(scratch, values, {"field": "j_tags", "op": "is_not_null"}) == {0, 1, 2}


def test_masked_columns_read_hidden_values_as_null(scratch: Scratch) -> None:
    """The gate masks in SQL (CASE WHEN visible THEN value END); a hidden value is null."""
    table = scratch.table
    shown = table.c.active.is_(True)
    masked = {key: case((shown, column), else_=None) for key, column in scratch.columns.items()}
    same = {"j_tags": ["red"], "stage": "won"}
    scratch.load([Row(dict.fromkeys(CATALOG) | same | {"active": a}, False) for a in (True, False)])
    for raw, expected in [
        ({"field": "j_tags", "op": "contains", "value": "red"}, {0}),
        ({"field": "j_tags", "op": "is_null"}, {1}),
        ({"field": "stage", "op": "eq", "value": "won"}, {0}),
        ({"not": {"field": "stage", "op": "eq", "value": "won"}}, {1}),
    ]:
        query = select(table.c.id).where(to_sql(parse(raw, CATALOG), masked))
        with scratch.engine.connect() as conn:
            assert set(conn.scalars(query)) == expected, raw


def test_multi_enum_missing_key_scalar_and_object_never_contain(scratch: Scratch) -> None:
    """Bad JSON data (a scalar or an object where an array belongs) and a missing key: no match,
    in SQL exactly as in Python (json_each and ?| would otherwise match a bare string)."""
    with scratch.engine.begin() as conn:
        conn.execute(delete(scratch.table))
        conn.execute(
            insert(scratch.table),
            [
                {"id": 0, "custom": {"j_tags": "red"}},
                {"id": 1, "custom": {"j_tags": {"red": "red"}}},
                {"id": 2, "custom": {"j_tags": [1, "red"]}},
                {"id": 3, "custom": {"other": 1}},
                {"id": 4, "custom": None},
            ],
        )
    contains = parse({"field": "j_tags", "op": "contains", "value": "red"}, CATALOG)
    assert scratch.sql_ids(contains) == {2}
    assert [evaluate(contains, {"j_tags": v}) for v in ("red", {"red": "red"}, [1, "red"])] == [
        False,
        False,
        True,
    ]
    assert scratch.sql_ids(parse({"field": "j_tags", "op": "is_null"}, CATALOG)) == {3, 4}


def test_numbers_compare_as_decimals_across_numeric_and_float(scratch: Scratch) -> None:
    values = [
        {"amount": Decimal("0.10"), "j_number": 0.1},
        {"amount": Decimal("0.30"), "j_number": 0.1 + 0.2},
    ]
    assert check(scratch, values, {"field": "amount", "op": "eq", "value": 0.1}) == {0}
    assert check(scratch, values, {"field": "j_number", "op": "eq", "value": 0.1}) == {0}
    assert check(scratch, values, {"field": "amount", "op": "eq", "value": 0.3}) == {1}
    assert check(scratch, values, {"field": "j_number", "op": "eq", "value": 0.3}) == set()
    assert check(scratch, values, {"field": "j_number", "op": "gt", "value": 0.3}) == {1}


def test_number_lists_mixing_ints_and_floats_keep_the_fractions(scratch: Scratch) -> None:
    """Regression: SQLAlchemy typed a whole IN list by its first value, so on PostgreSQL
    [1, 0.1] against a FLOAT became IN (1::INTEGER, 0.1::INTEGER) and matched 0."""
    values = [dict.fromkeys(("amount", "seats", "j_number"), 0), {"seats": 1, "j_number": 0.1}]
    one_or_a_tenth = {"op": "in", "value": [1, 0.1]}
    assert check(scratch, values, {"field": "amount", **one_or_a_tenth}) == set()
    assert check(scratch, values, {"field": "seats", **one_or_a_tenth}) == {1}
    assert check(scratch, values, {"field": "j_number", **one_or_a_tenth}) == {1}
    assert check(scratch, values, {"field": "seats", "op": "between", "value": [0.5, 1.5]}) == {1}
    assert check(scratch, values, {"field": "seats", "op": "lt", "value": 0.5}) == {0}
    assert check(scratch, values, {"field": "amount", "op": "eq", "value": 0.001}) == set()


# --- the parser --------------------------------------------------------------------------------

PARSER_CATALOG = CATALOG | {"kind": FieldSpec("enum", options=["deal"], nullable=False)}
LEAF = {"field": "stage", "op": "eq", "value": "won"}
UID = str(USERS[1])


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ("stage = won", "body.condition"),
        ({}, "body.condition.field"),
        ({"field": "nope", "op": "eq", "value": 1}, "body.condition.field"),
        ({"field": 3, "op": "eq", "value": 1}, "body.condition.field"),
        (
            {"all": [LEAF, {"field": "stage", "op": "eq", "value": "open"}]},
            "body.condition.all.1.value",
        ),
        (
            {"any": [LEAF, {"not": {"field": "stage", "op": "like", "value": "w"}}]},
            "body.condition.any.1.not.op",
        ),
        ({"field": "stage", "op": "eq"}, "body.condition.value"),
        ({**LEAF, "extra": 1}, "body.condition.extra"),
        ({"all": [], "any": []}, "body.condition.any"),
        ({"all": {}}, "body.condition.all"),
        ({"not": 5}, "body.condition.not"),
        ({"not": LEAF, "field": "stage"}, "body.condition.field"),
        # operator not allowed for the type
        ({"field": "stage", "op": "lt", "value": "won"}, "body.condition.op"),
        ({"field": "active", "op": "gte", "value": True}, "body.condition.op"),
        ({"field": "active", "op": "in", "value": [True]}, "body.condition.op"),
        ({"field": "name", "op": "lt", "value": "a"}, "body.condition.op"),
        ({"field": "name", "op": "contains", "value": "a"}, "body.condition.op"),
        ({"field": "stage", "op": "starts_with", "value": "w"}, "body.condition.op"),
        ({"field": "amount", "op": "starts_with", "value": "1"}, "body.condition.op"),
        ({"field": "j_tags", "op": "eq", "value": "red"}, "body.condition.op"),
        ({"field": "owner", "op": "gt", "value": UID}, "body.condition.op"),
        ({"field": "kind", "op": "is_null"}, "body.condition.op"),
        # value of the wrong type
        ({"field": "amount", "op": "eq", "value": "10"}, "body.condition.value"),
        ({"field": "amount", "op": "eq", "value": True}, "body.condition.value"),
        ({"field": "amount", "op": "eq", "value": float("nan")}, "body.condition.value"),
        ({"field": "amount", "op": "eq", "value": float("inf")}, "body.condition.value"),
        ({"field": "amount", "op": "eq", "value": 0.1234567890123456}, "body.condition.value"),
        ({"field": "amount", "op": "eq", "value": 10**15}, "body.condition.value"),
        ({"field": "amount", "op": "eq", "value": 1e-16}, "body.condition.value"),
        ({"field": "close", "op": "eq", "value": "2024-13-01"}, "body.condition.value"),
        ({"field": "close", "op": "eq", "value": "2024-1-1"}, "body.condition.value"),
        ({"field": "close", "op": "eq", "value": "2024-01-01T00:00:00"}, "body.condition.value"),
        ({"field": "close", "op": "eq", "value": 20240101}, "body.condition.value"),
        ({"field": "stage", "op": "eq", "value": "WON"}, "body.condition.value"),
        ({"field": "stage", "op": "in", "value": ["won", "open"]}, "body.condition.value.1"),
        ({"field": "j_tags", "op": "contains", "value": "pink"}, "body.condition.value"),
        ({"field": "j_tags", "op": "contains_any", "value": ["red", 1]}, "body.condition.value.1"),
        ({"field": "active", "op": "eq", "value": "true"}, "body.condition.value"),
        ({"field": "active", "op": "eq", "value": 1}, "body.condition.value"),
        ({"field": "owner", "op": "eq", "value": "not-a-uuid"}, "body.condition.value"),
        ({"field": "owner", "op": "eq", "value": UID.replace("-", "")}, "body.condition.value"),
        ({"field": "j_company", "op": "not_in", "value": [UID, 7]}, "body.condition.value.1"),
        ({"field": "name", "op": "eq", "value": 5}, "body.condition.value"),
        ({"field": "name", "op": "eq", "value": "a\x00b"}, "body.condition.value"),
        ({"field": "name", "op": "eq", "value": "x" * 1001}, "body.condition.value"),
        # between, lists, null checks
        ({"field": "amount", "op": "between", "value": [20, 10]}, "body.condition.value"),
        (
            {"field": "close", "op": "between", "value": ["2024-02-01", "2024-01-31"]},
            "body.condition.value",
        ),
        ({"field": "amount", "op": "between", "value": [1, 2, 3]}, "body.condition.value"),
        ({"field": "amount", "op": "between", "value": 1}, "body.condition.value"),
        ({"field": "amount", "op": "between", "value": [1, "2"]}, "body.condition.value.1"),
        ({"field": "stage", "op": "in", "value": []}, "body.condition.value"),
        ({"field": "stage", "op": "in", "value": "won"}, "body.condition.value"),
        (
            {"field": "amount", "op": "in", "value": list(range(MAX_LIST_VALUES + 1))},
            "body.condition.value",
        ),
        ({"field": "stage", "op": "is_null", "value": None}, "body.condition.value"),
    ],
)
def test_parse_rejects_with_the_exact_path(data: Any, path: str) -> None:
    with pytest.raises(Problem) as caught:
        parse(data, PARSER_CATALOG)
    problem = caught.value
    assert (problem.status, problem.slug) == (422, "invalid-condition")
    assert problem.errors is not None
    assert problem.errors[0]["path"] == path, problem.detail
    assert problem.detail.startswith(f"{path}: ")


def _nested_not(levels: int) -> dict[str, Any]:
    cond: dict[str, Any] = LEAF
    for _ in range(levels):
        cond = {"not": cond}
    return cond


def test_parse_limits_depth_leaves_and_list_length() -> None:
    parse(_nested_not(MAX_DEPTH - 1), CATALOG)
    with pytest.raises(Problem) as caught:
        parse(_nested_not(MAX_DEPTH), CATALOG)
    assert caught.value.errors == [
        {
            "path": "body.condition" + ".not" * MAX_DEPTH,
            "message": f"conditions nest at most {MAX_DEPTH} levels deep",
            "type": "invalid-condition",
        }
    ]
    parse({"any": [LEAF] * MAX_LEAVES}, CATALOG)
    with pytest.raises(Problem) as caught:
        parse({"any": [LEAF] * (MAX_LEAVES + 1)}, CATALOG)
    assert caught.value.errors is not None
    assert caught.value.errors[0]["path"] == f"body.condition.any.{MAX_LEAVES}"
    parse({"field": "amount", "op": "in", "value": list(range(MAX_LIST_VALUES))}, CATALOG)
    empty_groups: dict[str, Any] = {"all": [{"any": []}] * (MAX_NODES - 1)}
    parse(empty_groups, CATALOG)
    with pytest.raises(Problem) as caught:
        parse({"not": empty_groups}, CATALOG)
    assert caught.value.errors is not None
    assert caught.value.errors[0]["path"] == f"body.condition.not.all.{MAX_NODES - 2}"


def test_parse_uses_the_callers_path() -> None:
    with pytest.raises(Problem) as caught:
        parse({"all": [{"field": "x", "op": "eq", "value": 1}]}, CATALOG, path="body.rules.2.when")
    assert caught.value.errors is not None
    assert caught.value.errors[0]["path"] == "body.rules.2.when.all.0.field"


def test_valid_conditions_round_trip_through_model_dump() -> None:
    raw = {
        "all": [
            {"field": "stage", "op": "in", "value": ["won", "Won"]},
            {"not": {"field": "close", "op": "between", "value": ["2024-01-01", "2024-12-31"]}},
            {
                "any": [
                    {"field": "amount", "op": "gte", "value": 1000.5},
                    {"field": "amount", "op": "lt", "value": -3},
                    {"field": "owner", "op": "eq", "value": UID},
                    {"field": "j_tags", "op": "contains_any", "value": ["red"]},
                    {"field": "j_text", "op": "starts_with", "value": "Ac%"},
                    {"field": "active", "op": "ne", "value": False},
                    {"field": "j_flag", "op": "is_not_null"},
                    {"all": []},
                    {"any": []},
                ]
            },
        ]
    }
    cond = parse(raw, CATALOG)
    assert cond.model_dump() == raw
    assert parse(cond, CATALOG) == cond
    assert parse(cond.model_dump(), CATALOG) == cond
    assert referenced_fields(cond) == {
        "stage", "close", "amount", "owner", "j_tags", "j_text", "active", "j_flag",
    }  # fmt: skip
    # values arrive converted for evaluate(): ISO dates as dates, UUID strings as UUIDs
    close = parse({"field": "close", "op": "eq", "value": "2024-02-29"}, CATALOG)
    owner = parse({"field": "owner", "op": "eq", "value": UID.upper()}, CATALOG)
    assert evaluate(close, {"close": date(2024, 2, 29)})
    assert evaluate(owner, {"owner": USERS[1]})
    assert owner.model_dump()["value"] == UID


def test_to_sql_refuses_a_missing_column_and_a_bare_json_element_for_scalars() -> None:
    table = Table("t", MetaData(), Column("custom", JSON))
    cond = parse(LEAF, CATALOG)
    with pytest.raises(KeyError):
        to_sql(cond, {})
    with pytest.raises(TypeError):
        to_sql(cond, {"stage": table.c.custom["stage"]})
    tags = parse({"field": "j_tags", "op": "contains", "value": "red"}, CATALOG)
    with pytest.raises(TypeError):
        to_sql(tags, {"j_tags": table.c.custom["j_tags"].as_string()})
