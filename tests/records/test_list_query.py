"""Filtering, sorting and counting lists through the gate: only on fields the caller can see,
over masked values, with keyset pages that walk every row exactly once in order."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import empty_all_tables
from tests.fixtures.builders import Member, make_company
from tests.fixtures.records import OPPS, create_record, fill_space, put_template, share_record
from tests.kit.assertions import assert_invalid, assert_problem


def _opp(client: TestClient, who: Member, title: str, **fields: Any) -> str:
    """An opportunity with the fields that are not None."""
    present = {k: v for k, v in fields.items() if v is not None}
    return create_record(client, who, title, **present)


def _list(client: TestClient, who: Member, **params: Any) -> Any:
    if "filter" in params and not isinstance(params["filter"], str):
        params["filter"] = json.dumps(params["filter"])
    return client.get(OPPS, params={"limit": 500, **params}, headers=who.headers)


def _titles(client: TestClient, who: Member, condition: Any) -> set[str]:
    response = _list(client, who, filter=condition)
    assert response.status_code == 200, response.text
    return {item["title"] for item in response.json()["items"]}


def _count(client: TestClient, who: Member, condition: Any) -> Any:
    return client.get(
        f"{OPPS}/count", params={"filter": json.dumps(condition)}, headers=who.headers
    )


def _walk(client: TestClient, who: Member, sort: str, page_size: int) -> list[str]:
    """Every page of the sorted list: ids in the order served, each exactly once."""
    served: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": page_size, "sort": sort}
        if cursor:
            params["cursor"] = cursor
        response = client.get(OPPS, params=params, headers=who.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= page_size
        served.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(served) == len(set(served)), f"{sort} at {page_size}: a row came twice"
    return served


def _expected_order(rows: list[dict[str, Any]], sort: str) -> list[str]:
    """The documented order: each term with NULLs last in either direction, then id."""
    ordered = sorted(rows, key=lambda row: row["id"])
    for term in reversed(sort.split(",")):
        descending = term.startswith("-")
        name = term.removeprefix("-")
        present = [row for row in ordered if row[name] is not None]
        missing = [row for row in ordered if row[name] is None]
        present.sort(key=lambda row: row[name], reverse=descending)  # stable
        ordered = present + missing
    return [row["id"] for row in ordered]


def test_filters_on_the_core_and_own_fields_and_counts_agree(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    put_template(
        client,
        acme,
        {"key": "score", "type": "number"},
        {"key": "tags", "type": "multi_enum", "options": [{"key": "cloud", "label": "Cloud"}]},
        {"key": "renewal", "type": "bool"},
    )
    _opp(client, acme, "alpha", amount=500, region="emea", score=2.5, tags=["cloud"], renewal=True)
    _opp(client, acme, "beta", amount=5000, region="apac", score=-1, renewal=False)
    _opp(client, acme, "gamma", stage="Propose")

    every = {"alpha", "beta", "gamma"}
    staged = {"field": "mine.stage", "op": "is_not_null"}
    cases: list[tuple[Any, set[str]]] = [
        ({"field": "mine.amount", "op": "gte", "value": 1000}, {"beta"}),
        ({"field": "mine.amount", "op": "is_null"}, {"gamma"}),
        ({"field": "mine.region", "op": "in", "value": ["emea", "apac"]}, {"alpha", "beta"}),
        ({"field": "mine.score", "op": "lt", "value": 0}, {"beta"}),
        ({"field": "mine.tags", "op": "contains", "value": "cloud"}, {"alpha"}),
        ({"field": "mine.renewal", "op": "eq", "value": False}, {"beta"}),
        ({"field": "title", "op": "starts_with", "value": "AL"}, {"alpha"}),
        ({"field": "owner_company", "op": "eq", "value": acme.company_id}, every),
        ({"field": "created_at", "op": "gte", "value": "2000-01-01"}, every),
        ({"field": "created_at", "op": "lt", "value": "2000-01-01"}, set()),
        ({"not": {"field": "mine.stage", "op": "eq", "value": "Propose"}}, {"alpha", "beta"}),
        (
            {"any": [{"field": "mine.amount", "op": "lt", "value": 1000}, staged]},
            {"alpha", "gamma"},
        ),
    ]  # fmt: skip
    for condition, titles in cases:
        assert _titles(client, acme, condition) == titles, condition
        count = _count(client, acme, condition)
        assert count.status_code == 200, count.text
        assert count.json() == {"count": len(titles)}, condition

    ids = {item["title"]: item["id"] for item in _list(client, acme).json()["items"]}
    by_id = {"field": "id", "op": "in", "value": [ids["alpha"], ids["gamma"]]}
    assert _titles(client, acme, by_id) == {"alpha", "gamma"}
    everything = client.get(f"{OPPS}/count", headers=acme.headers)
    assert everything.json() == {"count": 3}


def test_partner_fields_filter_over_masked_values_only_when_shared(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    globex = make_company(client, "Globex")
    initech = make_company(client, "Initech")
    stranger = make_company(client, "Stranger")
    put_template(
        client,
        acme,
        {"key": "stage", "visibility": "participants"},
        {"key": "product", "visibility": {"companies": [globex.company_id]}},
        {"key": "amount", "visibility": "private"},
        {"key": "margin", "type": "number", "visibility": "private"},
    )
    shared = _opp(client, acme, "shared", stage="Won", product="db", amount=100, margin=42)
    both = _opp(client, acme, "both", stage="Lost", product="db", amount=100, margin=42)
    _opp(client, acme, "acme only", stage="Won", product="db")
    share_record(client, acme, shared, globex)
    share_record(client, acme, both, globex)
    share_record(client, acme, both, initech)
    acme_stage = f"{acme.company_id}.stage"

    assert _titles(client, globex, {"field": acme_stage, "op": "eq", "value": "Won"}) == {"shared"}
    assert _titles(client, initech, {"field": acme_stage, "op": "is_not_null"}) == {"both"}
    product = {"field": f"{acme.company_id}.product", "op": "eq", "value": "db"}
    assert _titles(client, globex, product) == {"shared", "both"}

    # shared with Globex by name only; shared with participants but with no record in common;
    # private; or nonexistent: the same 400, naming the field
    hidden = [
        (initech, f"{acme.company_id}.product"),
        (stranger, acme_stage),  # shared with participants, but Stranger takes part in nothing
        (globex, f"{acme.company_id}.amount"),
        (globex, f"{acme.company_id}.margin"),
        (globex, f"{acme.company_id}.no_such_field"),
        (globex, f"{uuid.uuid4()}.stage"),
        (globex, "no_such_core_field"),
        (globex, "someone.stage"),
        (globex, "mine"),
    ]
    for who, name in hidden:
        condition = {
            "all": [{"field": "title", "op": "is_not_null"}, {"field": name, "op": "is_null"}]
        }
        response = _list(client, who, filter=condition)
        body = assert_problem(response, 400, "field-not-visible")
        assert name in body["detail"]
        assert body["errors"][0]["path"] == "query.filter.all.1.field"
        assert body["field"] == name
        assert_problem(_count(client, who, condition), 400, "field-not-visible")
        assert_problem(_list(client, who, sort=name), 400, "field-not-visible")

    # narrowing the template hides the field at once: filtering on it is refused
    put_template(client, acme, {"key": "stage", "visibility": {"companies": [initech.company_id]}})
    assert_problem(
        _list(client, globex, filter={"field": acme_stage, "op": "eq", "value": "Won"}),
        400,
        "field-not-visible",
    )
    assert _titles(client, initech, {"field": acme_stage, "op": "eq", "value": "Lost"}) == {"both"}


def test_a_partner_that_leaves_takes_its_values_out_of_filters(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    globex = make_company(client, "Globex")
    put_template(client, globex, {"key": "stage", "visibility": "participants"})
    deals = [_opp(client, acme, "first"), _opp(client, acme, "second")]
    for deal in deals:
        share_record(client, acme, deal, globex)
        fill_space(client, globex, deal, stage="Commit")
    globex_stage = f"{globex.company_id}.stage"
    commit = {"field": globex_stage, "op": "eq", "value": "Commit"}
    assert _titles(client, acme, commit) == {"first", "second"}

    def leave(deal: str) -> None:
        url = f"{OPPS}/{deal}/participants/{globex.company_id}"
        assert client.delete(url, headers=globex.headers).status_code == 204

    leave(deals[0])
    assert _titles(client, acme, commit) == {"second"}
    assert _titles(client, acme, {"field": globex_stage, "op": "is_null"}) == {"first"}
    # once Globex takes part in nothing Acme sees, its fields do not exist for Acme
    leave(deals[1])
    assert_problem(_list(client, acme, filter=commit), 400, "field-not-visible")


def test_own_private_field_is_refused_while_hide_private_is_on(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    put_template(
        client,
        acme,
        {"key": "amount", "visibility": "private"},
        {"key": "stage", "visibility": "participants"},
    )
    _opp(client, acme, "big", amount=9000, stage="Won")
    hide = client.patch(
        "/api/v1/me/preferences", json={"hide_private_fields": True}, headers=acme.headers
    )
    assert hide.status_code == 200

    amount = {"field": "mine.amount", "op": "gt", "value": 1}
    body = assert_problem(_list(client, acme, filter=amount), 400, "field-not-visible")
    assert "mine.amount" in body["detail"]
    assert "hide private fields" in body["detail"]
    assert_problem(_count(client, acme, amount), 400, "field-not-visible")
    assert_problem(_list(client, acme, sort="-mine.amount"), 400, "field-not-visible")
    assert _titles(client, acme, {"field": "mine.stage", "op": "eq", "value": "Won"}) == {"big"}

    client.patch(
        "/api/v1/me/preferences", json={"hide_private_fields": False}, headers=acme.headers
    )
    assert _titles(client, acme, amount) == {"big"}


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ("{not json", "query.filter"),
        ("[" * 5000, "query.filter"),
        ('"a string"', "query.filter"),
        ("[]", "query.filter"),
        ('{"field": "title"}', "query.filter.op"),
        ('{"field": "title", "op": "gt", "value": "a"}', "query.filter.op"),
        ('{"field": "mine.amount", "op": "gte", "value": "lots"}', "query.filter.value"),
        ('{"field": "mine.amount", "op": "gte", "value": NaN}', "query.filter.value"),
        ('{"field": "motion", "op": "eq", "value": "barter"}', "query.filter.value"),
        ('{"all": [{"field": "title", "op": "is_null"}]}', "query.filter.all.0.op"),
        ('{"all": {"field": "title"}}', "query.filter.all"),
        ('{"all": [], "any": []}', "query.filter.any"),
        ('{"field": 3, "op": "eq", "value": 1}', "query.filter.field"),
    ],
)
def test_malformed_filters_are_422_naming_the_path(client: TestClient, raw: str, path: str) -> None:
    acme = make_company(client, "Acme")
    _opp(client, acme, "one")
    assert_invalid(_list(client, acme, filter=raw), path, slug="invalid-condition")
    response = client.get(f"{OPPS}/count", params={"filter": raw}, headers=acme.headers)
    assert_invalid(response, path, slug="invalid-condition")


def test_bad_sorts_and_cursors_are_refused(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    put_template(
        client,
        acme,
        {"key": "tags", "type": "multi_enum", "options": [{"key": "a", "label": "A"}]},
        {"key": "fee", "type": "money"},
    )
    for title in ("a", "b", "c"):
        _opp(client, acme, title)
    for sort in ("title,", "title,title", "id,title", "mine.tags", "mine.fee", "a,b,c,d"):
        response = _list(client, acme, sort=sort)
        assert response.status_code in (400, 422), (sort, response.text)
        if response.status_code == 422:
            assert_invalid(response, "query.sort", slug="invalid-condition")
    assert_problem(_list(client, acme, sort="nope"), 400, "field-not-visible")
    valid = _list(client, acme, sort="title,mine.stage,-mine.amount,-id")
    assert valid.status_code == 200, valid.text

    cursor = client.get(OPPS, params={"limit": 1, "sort": "-title"}, headers=acme.headers).json()[
        "next_cursor"
    ]
    other_sort = client.get(
        OPPS, params={"limit": 1, "sort": "title", "cursor": cursor}, headers=acme.headers
    )
    assert_invalid(other_sort, "query.cursor")
    for garbage in (
        "nope",
        "e30",
        "W10",
        "eyJzb3J0IjoiLXRpdGxlLGlkIiwiYWZ0ZXIiOlsxXSwiaWQiOiJ4In0",
    ):
        response = client.get(
            OPPS, params={"limit": 1, "sort": "-title", "cursor": garbage}, headers=acme.headers
        )
        assert_invalid(response, "query.cursor")


def test_keyset_pages_walk_every_row_once_in_sort_order(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    globex = make_company(client, "Globex")
    put_template(
        client,
        acme,
        {"key": "score", "type": "number"},
        {"key": "stage", "visibility": "participants"},
    )
    put_template(client, globex, {"key": "stage", "visibility": "participants"})
    seeds: list[dict[str, Any]] = [
        {"title": "kilo", "amount": 300, "stage": "b", "close_date": "2026-03-01", "score": 1.5},
        {"title": "alfa", "amount": None, "stage": "a", "close_date": None, "score": None},
        {"title": "echo", "amount": 300, "stage": None, "close_date": "2026-01-15", "score": -2},
        {"title": "bravo", "amount": 100, "stage": "b", "close_date": "2026-03-01", "score": 0},
        {"title": "delta", "amount": None, "stage": "c", "close_date": "2025-12-31", "score": 7},
        {"title": "golf", "amount": 250.5, "stage": "a", "close_date": None, "score": 1.5},
        {"title": "hotel", "amount": 100, "stage": None, "close_date": "2026-01-15", "score": None},
    ]
    partner_stage = ["x", None, "y", "x", None, "z", None]
    rows: list[dict[str, Any]] = []
    for i, seed in enumerate(seeds):
        title = seed["title"]
        fields = {k: v for k, v in seed.items() if k != "title"}
        record_id = _opp(client, acme, title, **fields)
        if i % 3 != 2:  # some records are not shared with Globex at all
            share_record(client, acme, record_id, globex)
            if partner_stage[i] is not None:
                fill_space(client, globex, record_id, stage=partner_stage[i])
        rows.append(
            {
                "id": record_id,
                "title": title,
                "mine.amount": seed["amount"],
                "mine.stage": seed["stage"],
                "mine.close_date": seed["close_date"],
                "mine.score": seed["score"],
                f"{globex.company_id}.stage": partner_stage[i] if i % 3 != 2 else None,
            }
        )
    partner = f"{globex.company_id}.stage"
    sorts = [
        "title",
        "-title",
        "mine.amount",
        "-mine.amount",
        "mine.close_date",
        "-mine.close_date",
        "mine.score",
        "-mine.score",
        "mine.stage,-mine.amount",
        "-mine.stage,mine.close_date",
        partner,
        f"-{partner},-title",
    ]
    for sort in sorts:
        expected = _expected_order(rows, sort)
        for page_size in (1, 2, 50):
            assert _walk(client, acme, sort, page_size) == expected, (sort, page_size)
    assert _walk(client, acme, "-id", 2) == sorted((row["id"] for row in rows), reverse=True)

    # the partner sees Acme's shared stage and nothing else; unshared records are not listed
    globex_rows = [
        {"id": row["id"], f"{acme.company_id}.stage": row["mine.stage"]}
        for i, row in enumerate(rows)
        if i % 3 != 2
    ]
    for sort in (f"{acme.company_id}.stage", f"-{acme.company_id}.stage"):
        expected = _expected_order(globex_rows, sort)
        for page_size in (1, 2, 50):
            assert _walk(client, globex, sort, page_size) == expected, (sort, page_size)


def test_created_at_sorts_by_instant_and_filters_by_utc_day(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    ids = [_opp(client, acme, f"r{i}") for i in range(4)]
    assert _walk(client, acme, "-created_at", 1) == list(reversed(ids))
    assert _walk(client, acme, "updated_at", 3) == ids
    today = client.get(f"{OPPS}/{ids[0]}", headers=acme.headers).json()["created_at"][:10]
    on_the_day = {"field": "created_at", "op": "eq", "value": today}
    assert _count(client, acme, on_the_day).json() == {"count": 4}


SORTABLE = {
    "mine.amount": st.none() | st.sampled_from([0, 5, 12.5, 100]),
    "mine.stage": st.none() | st.sampled_from(["a", "b", "bb"]),
    "mine.close_date": st.none() | st.sampled_from(["2025-12-31", "2026-01-01", "2026-06-30"]),
}


@settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    values=st.lists(st.fixed_dictionaries(SORTABLE), min_size=1, max_size=7),
    terms=st.lists(st.sampled_from(sorted(SORTABLE)), min_size=1, max_size=3, unique=True),
    directions=st.lists(st.booleans(), min_size=3, max_size=3),
    page_size=st.sampled_from([1, 2, 3]),
)
def test_any_sort_with_ties_and_nulls_pages_like_python(
    app: FastAPI,
    values: list[dict[str, Any]],
    terms: list[str],
    directions: list[bool],
    page_size: int,
) -> None:
    sort = ",".join(("-" if down else "") + t for t, down in zip(terms, directions, strict=False))
    with TestClient(app) as client:
        try:
            acme = make_company(client, "Acme")
            rows = []
            for i, row in enumerate(values):
                fields = {key.removeprefix("mine."): value for key, value in row.items()}
                rows.append({"id": _opp(client, acme, f"t{i}", **fields), **row})
            assert _walk(client, acme, sort, page_size) == _expected_order(rows, sort)
        finally:
            empty_all_tables(app.state.engine)
