"""The report engine against a naive oracle: for generated networks (the gate oracle's worlds:
templates, sharing, participants in every status, hide-private preferences) and generated
report definitions, every group's measures equal plain Python over the viewer's masked rows as
the gate oracle computes them, and every refusal is exactly where the viewer cannot see a field.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from itertools import product
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.authz.test_gate_oracle import (
    Built,
    World,
    _build,
    _may_filter,
    _oracle,
    _own_visible,
    worlds,
)
from tests.conftest import empty_all_tables

RUN = "/api/v1/reports/run"
CENT = Decimal("0.01")
WEIGHTS = {"pipeline": Decimal("0.1"), "commit": Decimal("0.9")}

# a dimension: a bare name, or (company index, key) for a company's space field
Dim = str | tuple[int, str]
# a measure: (op, None) or (op, company index) for an amount
MeasureSpec = tuple[str, int | None]


@dataclass(frozen=True)
class Definition:
    dims: list[Dim]
    measures: list[MeasureSpec]
    big_only: bool  # filter mine.amount >= 500000


@st.composite
def definitions(draw: st.DrawFn) -> Definition:
    dim = st.one_of(
        st.sampled_from(["region", "stage", "product", "close_quarter", "partner", "mine.tier"]),
        st.tuples(st.integers(0, 3), st.sampled_from(["region", "product", "tier"])),
    )
    dims = draw(st.lists(dim, max_size=2, unique=True))
    measure = st.one_of(
        st.tuples(st.sampled_from(["sum", "avg", "min", "max"]), st.just(None)),
        st.tuples(st.sampled_from(["sum", "max"]), st.integers(0, 3)),
        st.tuples(st.sampled_from(["weighted_pipeline", "win_rate"]), st.just(None)),
    )
    measures = [("count", None), *draw(st.lists(measure, max_size=3, unique=True))]
    return Definition(dims, measures, draw(st.booleans()))


def _in_template(world: World, company: int, key: str) -> bool:
    return key != "tier" or key in world.custom_in_template[company]


def _quarter(iso: str) -> str:
    year, month = int(iso[:4]), int(iso[5:7])
    return f"{year:04d}-Q{(month - 1) // 3 + 1}"


def _money(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def _company(world: World, index: int) -> int:
    return min(index, world.n_companies - 1)


def _body(world: World, built: Built, definition: Definition) -> dict[str, Any]:
    """The request for a definition (company indices clamped to the network; duplicates that
    clamping makes are dropped)."""
    dims: list[str] = []
    for dim in definition.dims:
        name = (
            f"{built.members[_company(world, dim[0])].company_id}.{dim[1]}"
            if isinstance(dim, tuple)
            else dim
        )
        if name not in dims:
            dims.append(name)
    measures: list[dict[str, Any]] = []
    for op, company in definition.measures:
        if op not in _AMOUNT_OPS:
            measure: dict[str, Any] = {"op": op}
        elif company is None:
            measure = {"op": op, "field": "mine.amount"}
        else:
            owner = built.members[_company(world, company)].company_id
            measure = {"op": op, "field": f"{owner}.amount"}
        if measure not in measures:
            measures.append(measure)
    filters = [{"field": "mine.amount", "op": "gte", "value": 500000}]
    return {
        "group_by": dims,
        "measures": measures,
        "filters": filters if definition.big_only else [],
    }


def _refused(
    world: World,
    built: Built,
    viewer: int,
    body: dict[str, Any],
    expected: dict[str, dict[str, dict[str, Any]]],
) -> bool:
    """Whether the viewer may not see a dimension's field, a partner's amount or the filter's."""
    index = {m.company_id: i for i, m in enumerate(built.members)}

    def sees(owner: str, key: str) -> bool:
        company = viewer if owner == "mine" else index[owner]
        if company == viewer:
            return _own_visible(world, viewer, key) and _in_template(world, viewer, key)
        return _may_filter(world, built, company, key, viewer, set(expected))

    for name in body["group_by"]:
        if name == "partner":
            continue
        if "." in name:
            owner, _, key = name.partition(".")
        else:
            owner, key = "mine", {"close_quarter": "close_date"}.get(name, name)
        if not sees(owner, key):
            return True
    for measure in body["measures"]:
        owner = str(measure.get("field", "mine.")).partition(".")[0]
        # my own amount is never refused as a measure: hidden, it answers None with a note
        if owner not in ("mine", built.members[viewer].company_id) and not sees(owner, "amount"):
            return True
    return bool(body["filters"]) and not sees("mine", "amount")


_AMOUNT_OPS = {"sum", "avg", "min", "max"}


def _name(measure: dict[str, Any]) -> str:
    return f"{measure['op']}({measure['field']})" if "field" in measure else str(measure["op"])


def _amount(space: dict[str, Any]) -> Decimal | None:
    found = space.get("amount")
    return None if found is None else Decimal(found["value"])


def _measures(
    world: World,
    built: Built,
    viewer: int,
    records: list[dict[str, dict[str, Any]]],
    measures: list[dict[str, Any]],
) -> tuple[dict[str, Any], dict[str, int]]:
    """Plain Python over masked rows (company id -> visible fields) of one group."""
    me = built.members[viewer].company_id
    values: dict[str, Any] = {}
    hidden: dict[str, int] = {}
    for measure in measures:
        name, op = _name(measure), measure["op"]
        mine = [r.get(me, {}) for r in records]
        if op == "count":
            values[name] = len(records)
        elif op in _AMOUNT_OPS:
            owner = measure["field"].split(".")[0]
            company = me if owner == "mine" else owner
            amounts = [a for r in records if (a := _amount(r.get(company, {}))) is not None]
            if company != me:
                hidden[name] = len(records) - len(amounts)
            if not amounts or (company == me and not _own_visible(world, viewer, "amount")):
                values[name] = None
            elif op == "sum":
                values[name] = _money(sum(amounts, Decimal(0)))
            elif op == "avg":
                values[name] = _money(sum(amounts, Decimal(0)) / len(amounts))
            elif op == "min":
                values[name] = _money(min(amounts))
            else:
                values[name] = _money(max(amounts))
        elif op == "weighted_pipeline":
            if not (
                _own_visible(world, viewer, "amount")
                and _own_visible(world, viewer, "forecast_category")
            ):
                values[name] = None
                continue
            weighted = [
                a * WEIGHTS.get(space.get("forecast_category", ""), Decimal(0))
                for space in mine
                if (a := _amount(space)) is not None
            ]
            values[name] = _money(sum(weighted, Decimal(0))) if weighted else None
        else:  # win_rate: the generated stages are none of the default pipeline's won/lost
            values[name] = None
    return values, hidden


def _dimension_values(
    built: Built, viewer: int, name: str, spaces: dict[str, dict[str, Any]]
) -> list[str | None]:
    me = built.members[viewer].company_id
    if name == "partner":
        partners = [c for c in spaces if c != me]
        return list(partners) if partners else [None]
    if name == "close_quarter":
        close = spaces.get(me, {}).get("close_date")
        return [_quarter(close) if close else None]
    owner, _, key = name.rpartition(".")
    company = me if owner in ("", "mine") else owner
    value = spaces.get(company, {}).get(key)
    return [None if value is None else str(value)]


def _check(
    client: TestClient,
    world: World,
    built: Built,
    viewer: int,
    definition: Definition,
    expected: dict[str, dict[str, dict[str, Any]]],
) -> None:
    member = built.members[viewer]
    me = member.company_id
    body = _body(world, built, definition)
    names: list[str] = body["group_by"]
    response = client.post(RUN, json=body, headers=member.headers)
    if _refused(world, built, viewer, body, expected):
        assert response.status_code == 400, (body, response.text)
        assert response.json()["type"] == "/problems/field-not-visible"
        return
    assert response.status_code == 200, (body, response.text)
    got = response.json()
    rows = list(expected.values())
    if definition.big_only:
        rows = [r for r in rows if (a := _amount(r.get(me, {}))) is not None and a >= 500000]
    groups: dict[tuple[str | None, ...], list[dict[str, dict[str, Any]]]] = defaultdict(list)
    for spaces in rows:
        per_dim = [_dimension_values(built, viewer, name, spaces) for name in names]
        for key in product(*per_dim):
            groups[key].append(spaces)
    want = {
        key: _measures(world, built, viewer, members, body["measures"]) if names else None
        for key, members in groups.items()
    }
    if names:
        actual = {
            tuple(row["group"][n]["value"] for n in names): (row["measures"], row["hidden"])
            for row in got["rows"]
        }
        assert actual == want, (body, got)
    else:
        assert got["rows"] == []
    totals = _measures(world, built, viewer, rows, body["measures"])
    assert (got["totals"]["measures"], got["totals"]["hidden"]) == totals, (body, got)
    assert got["totals"]["unconverted"] == {}  # every amount is in the viewer's currency


@settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds(), reports=st.lists(definitions(), min_size=1, max_size=3))
def test_every_group_equals_the_oracle(
    app: FastAPI, world: World, reports: list[Definition]
) -> None:
    with TestClient(app) as client:
        try:
            built = _build(client, world)
            for viewer in range(world.n_companies):
                expected = _oracle(world, built, viewer)
                for definition in reports:
                    _check(client, world, built, viewer, definition, expected)
        finally:
            empty_all_tables(app.state.engine)
