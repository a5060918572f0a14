"""Every operator of the filter language on every field type, through a report (lean and with
the shared core joined), the records list and the report builder's preview: the operators a
type allows match exactly the rows a naive oracle picks; the others are refused with 422 and the
path of the operator. Nothing answers 500 (custom elements such as a JSON null check or an
ASCII case fold compile only for SQLite and PostgreSQL, never for a generic dialect)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.fixtures.builders import Member, make_company
from tests.fixtures.records import OPPS, put_template
from tests.records.test_list_statements import statements
from tests.web.conftest import Browser
from tests.web.html import parse
from tests.web.test_network_pages import signed_in
from tests.web.test_record_pages import htmx

RUN = "/api/v1/reports/run"
OPS = (
    "eq", "ne", "in", "not_in", "lt", "lte", "gt", "gte", "between", "is_null", "is_not_null",
    "contains", "contains_any", "starts_with",
)  # fmt: skip
ALLOWED = {
    "text": {"eq", "ne", "in", "not_in", "starts_with", "is_null", "is_not_null"},
    "number": {"eq", "ne", "in", "not_in", "lt", "lte", "gt", "gte", "between", "is_null",
               "is_not_null"},
    "enum": {"eq", "ne", "in", "not_in", "is_null", "is_not_null"},
    "multi_enum": {"contains", "contains_any", "is_null", "is_not_null"},
    "bool": {"eq", "ne", "is_null", "is_not_null"},
}  # fmt: skip
ALLOWED["long_text"] = ALLOWED["text"]
ALLOWED["money"] = ALLOWED["date"] = ALLOWED["number"]
ALLOWED["user"] = ALLOWED["enum"]

TEMPLATE = [
    {"key": "note", "type": "text", "visibility": "private"},
    {"key": "memo", "type": "long_text", "visibility": "private"},
    {"key": "score", "type": "number", "visibility": "private"},
    {"key": "budget", "type": "money", "visibility": "private"},
    {"key": "due", "type": "date", "visibility": "private"},
    {"key": "tier", "type": "enum", "visibility": "private",
     "options": [{"key": "gold", "label": "Gold"}, {"key": "silver", "label": "Silver"}]},
    {"key": "tags", "type": "multi_enum", "visibility": "private",
     "options": [{"key": k, "label": k.upper()} for k in ("a", "b", "c")]},
    {"key": "flag", "type": "bool", "visibility": "private"},
    {"key": "buddy", "type": "user", "visibility": "private"},
]  # fmt: skip


@dataclass(frozen=True)
class Field:
    name: str  # as filters name it
    key: str  # in `fields` when writing
    type: str
    values: tuple[Any, ...]  # one per record R0..R3 (None: not set)
    operands: dict[str, Any]  # a value for each operator that takes one


def _user(me: Member) -> str:
    return me.user_id


DAY = date(2031, 5, 17)  # values and operands alike: no "today" involved in any comparison
D1, D2, D3 = DAY.isoformat(), date(2031, 8, 2).isoformat(), date(2032, 1, 9).isoformat()


def _fields(me: Member) -> list[Field]:
    numbers = {
        "eq": 10, "ne": 10, "in": [10, 0], "not_in": [10], "lt": 1, "lte": 0, "gt": 0,
        "gte": -2.5, "between": [-3, 5], "contains": 1, "contains_any": [1], "starts_with": "1",
    }  # fmt: skip
    texts = {
        "eq": "Alpha", "ne": "Alpha", "in": ["Alpha", "beta"], "not_in": ["Alpha"],
        "starts_with": "ALPHA", "lt": "b", "lte": "b", "gt": "b", "gte": "b",
        "between": ["a", "c"], "contains": "Alpha", "contains_any": ["Alpha"],
    }  # fmt: skip
    dates = {
        "eq": D1, "ne": D1, "in": [D1, D3], "not_in": [D1], "lt": D2, "lte": D2, "gt": D1,
        "gte": D2, "between": [D1, D2], "contains": D1, "contains_any": [D1], "starts_with": "2",
    }  # fmt: skip
    options = {
        "eq": "gold", "ne": "gold", "in": ["gold", "silver"], "not_in": ["gold"], "lt": "gold",
        "lte": "gold", "gt": "gold", "gte": "gold", "between": ["gold", "silver"],
        "contains": "gold", "contains_any": ["gold"], "starts_with": "g",
    }  # fmt: skip
    regions = {k: json.loads(json.dumps(v).replace("gold", "emea").replace("silver", "apac"))
               for k, v in options.items()}  # fmt: skip
    tags = {
        "contains": "b", "contains_any": ["a", "c"], "eq": "a", "ne": "a", "in": ["a"],
        "not_in": ["a"], "lt": "a", "lte": "a", "gt": "a", "gte": "a", "between": ["a", "b"],
        "starts_with": "a",
    }  # fmt: skip
    flags = dict.fromkeys(OPS, True) | {"in": [True], "not_in": [True], "contains_any": [True],
                                        "between": [False, True]}  # fmt: skip
    user = _user(me)
    users = dict.fromkeys(OPS, user) | {"in": [user], "not_in": [user], "contains_any": [user],
                                        "between": [user, user]}  # fmt: skip
    return [
        Field("mine.note", "note", "text", ("Alpha", "beta", None, "alphabet"), texts),
        Field("mine.memo", "memo", "long_text", ("alpha memo", "", None, "Alpha"), texts),
        Field("mine.stage", "stage", "text", ("Alpha", "beta", None, "alphabet"), texts),
        Field("mine.score", "score", "number", (10, -2.5, None, 0), numbers),
        Field("mine.amount", "amount", "money", (10, 0, None, 4.5), numbers),
        Field("mine.due", "due", "date", (D1, D2, None, D3), dates),
        Field("mine.close_date", "close_date", "date", (D1, D2, None, D3), dates),
        Field("mine.tier", "tier", "enum", ("gold", "silver", None, "gold"), options),
        Field("mine.region", "region", "enum", ("emea", "apac", None, "emea"), regions),
        Field("mine.tags", "tags", "multi_enum", (["a", "b"], ["c"], None, []), tags),
        Field("mine.flag", "flag", "bool", (True, False, None, True), flags),
        Field("mine.buddy", "buddy", "user", (user, None, None, user), users),
        Field("mine.owner", "owner", "user", (user, None, None, user), users),
    ]


def _comparable(value: Any, kind: str) -> Any:
    if kind in ("number", "money"):
        return Decimal(str(value))
    if kind == "date":
        return date.fromisoformat(value)
    return value


def _matches(kind: str, op: str, stored: Any, operand: Any) -> bool:
    """The oracle: the language's documented two-valued semantics, by hand."""
    if op == "is_null":
        return stored is None
    if op == "is_not_null":
        return stored is not None
    if stored is None:
        return False
    if op == "contains":
        return operand in stored
    if op == "contains_any":
        return any(o in stored for o in operand)
    if op == "starts_with":
        fold = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
        return str(stored).translate(fold).startswith(str(operand).translate(fold))
    value = _comparable(stored, kind)
    if op in ("in", "not_in"):
        found = value in [_comparable(o, kind) for o in operand]
        return found if op == "in" else not found
    if op == "between":
        low, high = (_comparable(o, kind) for o in operand)
        return bool(low <= value <= high)
    other = _comparable(operand, kind)
    compare: dict[str, Callable[[Any, Any], bool]] = {
        "eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "lt": lambda a, b: a < b,
        "lte": lambda a, b: a <= b, "gt": lambda a, b: a > b, "gte": lambda a, b: a >= b,
    }  # fmt: skip
    return compare[op](value, other)


def _condition(field: Field, op: str) -> dict[str, Any]:
    if op in ("is_null", "is_not_null"):
        return {"field": field.name, "op": op}
    return {"field": field.name, "op": op, "value": field.operands[op]}


def _seed(client: TestClient, me: Member, fields: list[Field]) -> list[str]:
    put_template(client, me, *TEMPLATE)
    titles = [f"R{i}" for i in range(4)]
    for index, title in enumerate(titles):
        values: dict[str, Any] = {}
        for field in fields:
            value = field.values[index]
            if value is not None:
                values[field.key] = value
        body = {"title": title, "joint_stage": title, "fields": values}
        response = client.post(OPPS, json=body, headers=me.headers)
        assert response.status_code == 201, response.text
    return titles


def _report(client: TestClient, me: Member, condition: dict[str, Any], **body: Any) -> Any:
    return client.post(
        RUN,
        json={"kind": "opportunity", "measures": [{"op": "count"}], "filters": [condition], **body},
        headers=me.headers,
    )


@pytest.mark.parametrize("field_name", [f.name for f in _fields(Member("", "", "", ""))])
def test_every_operator_on_every_field_type_matches_the_oracle_or_is_refused(
    client: TestClient, field_name: str
) -> None:
    me = make_company(client, "Filters")
    fields = _fields(me)
    [field] = [f for f in fields if f.name == field_name]
    titles = _seed(client, me, fields)
    for op in OPS:
        condition = _condition(field, op)
        lean = _report(client, me, condition)
        if op not in ALLOWED[field.type]:
            assert lean.status_code == 422, (op, lean.text)
            assert lean.json()["errors"][0]["path"] == "body.filters.0.op", (op, lean.text)
            assert op in lean.json()["detail"]
            continue
        expected = {
            t for t, v in zip(titles, field.values, strict=True)
            if _matches(field.type, op, v, condition.get("value"))
        }  # fmt: skip
        assert lean.status_code == 200, (op, lean.text)
        assert lean.json()["totals"]["measures"]["count"] == len(expected), (op, condition)
        # grouped by a core dimension: the records table joins, each record its own group
        grouped = _report(client, me, condition, group_by=["joint_stage"])
        assert grouped.status_code == 200, (op, grouped.text)
        assert {r["group"]["joint_stage"]["value"] for r in grouped.json()["rows"]} == expected
        listed = client.get(OPPS, params={"filter": json.dumps(condition)}, headers=me.headers)
        assert listed.status_code == 200, (op, listed.text)
        assert {r["title"] for r in listed.json()["items"]} == expected, (op, condition)


def test_a_custom_money_field_cannot_be_filtered_on_with_any_operator(client: TestClient) -> None:
    me = make_company(client, "Money filters")
    put_template(client, me, *TEMPLATE)
    for op in OPS:
        condition = {"field": "mine.budget", "op": op, "value": 1}
        response = _report(client, me, condition)
        assert response.status_code == 422, (op, response.text)
        assert response.json()["errors"][0]["path"] == "body.filters.0.field"
        assert "cannot be filtered" in response.json()["detail"]


def test_the_report_builder_preview_runs_a_multi_enum_filter(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    me = make_company(client, "Preview filters")
    _seed(client, me, _fields(me))
    browser = signed_in(new_browser, me)
    # (filter rows, not JSON typed into a box: the builder no longer has one)
    for condition, count in (
        ({"field": "mine.tags", "op": "contains_any", "value": ["a", "c"]}, 2),
        ({"field": "mine.tags", "op": "is_null"}, 1),
        ({"field": "mine.note", "op": "starts_with", "value": "ALPHA"}, 2),
    ):
        form = {
            "name": "Tagged",
            "kind": "opportunity",
            "chart_type": "table",
            "measures": ["count"],
            "filter_row": "0",
            "filter.0.field": condition["field"],
            "filter.0.op": condition["op"],
            "filter.0.value": condition.get("value", ""),
        }
        preview = browser.client.post(
            "/reports/preview", data=form, headers=htmx(browser, "/reports/new")
        )
        assert preview.status_code == 200, preview.text
        page = parse(preview.text)
        assert 'role="alert"' not in preview.text, preview.text
        cells = [c.text.strip() for c in page.root.find_all("td")]
        assert str(count) in cells, (condition, cells)


def _aggregates(engine: Engine, client: TestClient, me: Member, **body: Any) -> list[str]:
    """The aggregate statements (those reading the grant table) a report runs."""
    with statements(engine) as seen:
        response = client.post(RUN, json={"kind": "opportunity", **body}, headers=me.headers)
    assert response.status_code == 200, response.text
    return [s for s in seen if "record_access" in s and "count(" in s.lower()]


def test_the_aggregate_joins_the_records_table_only_when_it_reads_the_shared_core(
    client: TestClient, engine: Engine
) -> None:
    me = make_company(client, "Lean reports")
    _seed(client, me, _fields(me))
    tags = {"field": "mine.tags", "op": "contains_any", "value": ["a"]}
    spaces_only = _aggregates(engine, client, me, group_by=["region"], filters=[tags])
    assert spaces_only
    assert not any(re.search(r"\brecords\b", s) for s in spaces_only), spaces_only
    for body in (
        {"group_by": ["joint_stage"], "filters": [tags]},
        {"filters": [tags, {"field": "title", "op": "starts_with", "value": "r"}]},
    ):
        core = _aggregates(engine, client, me, **body)
        assert core, body
        assert all(re.search(r"JOIN records\b", s) for s in core), (body, core)
