"""The gate against a naive oracle: for generated networks, templates, records and participants,
every read path (get, list at page sizes 1, 2 and 50, invitations, search, count, filters and
sorts on own and partner fields, CSV export) equals what plain Python over all rows says the
viewer may see, masked field by masked field."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import empty_all_tables
from tests.fixtures.builders import Member, make_company
from tests.fixtures.versions import at_version

STANDARD = ["amount", "stage", "forecast_category", "close_date", "region", "product"]
CUSTOM = [("notes", "text"), ("tier", "enum"), ("score", "number"), ("flag", "bool")]
# "proposed": a non-owner participant proposed the company (DESIGN must 8); the owner has not
# decided, so the company must see nothing, not even an invitation
STATUSES = ["none", "invited", "active", "left", "removed", "proposed"]


@dataclass
class World:
    n_companies: int
    visibility: dict[
        tuple[int, str], Any
    ]  # (company, field) -> "private" | "participants" | [companies]
    custom_in_template: dict[int, list[str]]
    records: list[dict[str, Any]]  # owner, statuses per company, values per company
    hide_private: dict[int, bool]


def _visibility(n: int) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.just("private"),
        st.just("participants"),
        st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True),
    )


VALUES: dict[str, st.SearchStrategy[Any]] = {
    "amount": st.integers(0, 10**6),
    "stage": st.sampled_from(["Qualify", "Propose", "Negotiate"]),
    "forecast_category": st.sampled_from(["pipeline", "commit"]),
    "close_date": st.dates().map(lambda d: d.isoformat()),
    "region": st.sampled_from(["emea", "apac"]),
    "product": st.text(alphabet="abcxyz ", min_size=1, max_size=8).map(str.strip).filter(bool),
    "notes": st.text(alphabet="abc", min_size=1, max_size=5),
    "tier": st.sampled_from(["gold", "silver"]),
    "score": st.integers(-5, 5),
    "flag": st.booleans(),
}


@st.composite
def worlds(draw: st.DrawFn) -> World:
    n = draw(st.integers(2, 4))
    keys = STANDARD + [k for k, _ in CUSTOM]
    visibility = {(c, k): draw(_visibility(n)) for c in range(n) for k in keys}
    custom_in_template = {
        c: draw(st.lists(st.sampled_from([k for k, _ in CUSTOM]), unique=True)) for c in range(n)
    }
    records = []
    for _ in range(draw(st.integers(1, 5))):
        owner = draw(st.integers(0, n - 1))
        statuses = {
            c: ("active" if c == owner else draw(st.sampled_from(STATUSES))) for c in range(n)
        }
        values = {
            c: {
                k: draw(VALUES[k])
                for k in draw(
                    st.lists(st.sampled_from(STANDARD + custom_in_template[c]), unique=True)
                )
            }
            for c in range(n)
        }
        records.append({"owner": owner, "statuses": statuses, "values": values})
    hide = {c: draw(st.booleans()) for c in range(n)}
    return World(n, visibility, custom_in_template, records, hide)


def _template(world: World, c: int, members: list[Member]) -> dict[str, Any]:
    def vis(key: str) -> Any:
        v = world.visibility[(c, key)]
        if isinstance(v, list):
            others = [members[i].company_id for i in v if i != c]
            return {"companies": others} if others else "private"
        return v

    fields: list[dict[str, Any]] = [{"key": k, "visibility": vis(k)} for k in STANDARD]
    for key, kind in CUSTOM:
        if key in world.custom_in_template[c]:
            definition: dict[str, Any] = {"key": key, "type": kind, "visibility": vis(key)}
            if kind == "enum":
                definition["options"] = [
                    {"key": "gold", "label": "Gold"},
                    {"key": "silver", "label": "Silver"},
                ]
            fields.append(definition)
    return {"fields": fields}


def _api_value(key: str, value: Any) -> Any:
    if key == "amount":
        return {"value": f"{value:.2f}", "currency": "USD"}
    return value


def _shared_with(world: World, owner: int, key: str, viewer: int, members: list[Member]) -> bool:
    v = world.visibility[(owner, key)]
    if v == "participants":
        return True
    return isinstance(v, list) and viewer in v and viewer != owner


@dataclass
class Built:
    members: list[Member]
    record_ids: list[str] = field(default_factory=list)


def _build(client: TestClient, world: World) -> Built:
    members = [make_company(client, f"Co{i}") for i in range(world.n_companies)]
    built = Built(members)
    for c, m in enumerate(members):
        r = client.put(
            "/api/v1/templates/opportunity",
            json=_template(world, c, members),
            headers=at_version(m, 0),  # a new company's first template
        )
        assert r.status_code == 200, r.text
        r = client.patch(
            "/api/v1/me/preferences",
            json={"hide_private_fields": world.hide_private[c]},
            headers=m.headers,
        )
        assert r.status_code == 200
    for i, rec in enumerate(world.records):
        owner = members[rec["owner"]]
        created = client.post(
            "/api/v1/opportunities",
            json={
                "title": f"Deal {i}",
                "customer_name": f"Customer {i}",
                "fields": rec["values"][rec["owner"]],
            },
            headers=owner.headers,
        )
        assert created.status_code == 201, created.text
        rid = created.json()["id"]
        built.record_ids.append(rid)
        for c, status in rec["statuses"].items():
            if c == rec["owner"] or status in ("none", "proposed"):
                continue
            m = members[c]
            base = f"/api/v1/opportunities/{rid}/participants"
            assert (
                client.post(
                    base, json={"company_id": m.company_id}, headers=owner.headers
                ).status_code
                == 201
            )
            if status == "invited":
                continue
            assert (
                client.post(f"{base}/{m.company_id}/accept", headers=m.headers).status_code == 200
            )
            if rec["values"][c]:
                r = client.patch(
                    f"/api/v1/opportunities/{rid}/spaces/mine",
                    json={"fields": rec["values"][c]},
                    headers=at_version(m, 1),  # the space its acceptance made
                )
                assert r.status_code == 200, r.text
            if status == "left":
                assert client.delete(f"{base}/{m.company_id}", headers=m.headers).status_code == 204
            elif status == "removed":
                assert (
                    client.delete(f"{base}/{m.company_id}", headers=owner.headers).status_code
                    == 204
                )
        _propose(client, rec, members, rid)
    return built


def _propose(client: TestClient, rec: dict[str, Any], members: list[Member], rid: str) -> None:
    """Each "proposed" company is proposed by an active non-owner participant (202); with
    nobody to propose it, it stays off the record ("none")."""
    proposers = [c for c, s in rec["statuses"].items() if s == "active" and c != rec["owner"]]
    for c, status in rec["statuses"].items():
        if status != "proposed":
            continue
        if not proposers:
            rec["statuses"][c] = "none"
            continue
        response = client.post(
            f"/api/v1/opportunities/{rid}/participants",
            json={"company_id": members[c].company_id},
            headers=members[proposers[0]].headers,
        )
        assert response.status_code == 202, response.text


def _oracle(world: World, built: Built, viewer: int) -> dict[str, dict[str, dict[str, Any]]]:
    """record id -> company id -> visible fields, by plain Python over everything written."""
    expected: dict[str, dict[str, dict[str, Any]]] = {}
    for i, rec in enumerate(world.records):
        if rec["statuses"][viewer] != "active":
            continue
        spaces: dict[str, dict[str, Any]] = {}
        for c in range(world.n_companies):
            if rec["statuses"][c] != "active" and c != viewer:
                continue
            values = (
                rec["values"][c]
                if (c == rec["owner"] or rec["statuses"][c] in ("active", "left", "removed"))
                else {}
            )
            shown: dict[str, Any] = {}
            for key, value in values.items():
                if c == viewer:
                    private = world.visibility[(c, key)] == "private" or (
                        isinstance(world.visibility[(c, key)], list)
                        and not [x for x in world.visibility[(c, key)] if x != c]
                    )
                    if world.hide_private[c] and private:
                        continue
                    shown[key] = _api_value(key, value)
                elif _shared_with(world, c, key, viewer, built.members):
                    shown[key] = _api_value(key, value)
            if c == viewer and "amount" in values and not world.hide_private[c]:
                shown["currency"] = "USD"  # set with the amount; private (not in any template)
            spaces[built.members[c].company_id] = shown
        expected[built.record_ids[i]] = spaces
    return expected


TEXT_KEYS = ("stage", "product", "notes")  # the searchable fields of these templates


def _search_oracle(
    world: World, built: Built, expected: dict[str, dict[str, dict[str, Any]]], word: str
) -> dict[str, set[tuple[str | None, str]]]:
    """What searching `word` (one word: a prefix) finds: visible core and text fields only."""

    def hit(value: str) -> bool:
        return any(w.startswith(word) for w in value.casefold().split())

    found: dict[str, set[tuple[str | None, str]]] = {}
    for i, rid in enumerate(built.record_ids):
        if rid not in expected:
            continue
        core = {"title": f"Deal {i}", "customer_name": f"Customer {i}"}
        matches: set[tuple[str | None, str]] = {(None, k) for k, v in core.items() if hit(v)}
        for company_id, fields in expected[rid].items():
            matches |= {(company_id, k) for k, v in fields.items() if k in TEXT_KEYS and hit(v)}
        if matches:
            found[rid] = matches
    return found


def _check_search(
    client: TestClient,
    world: World,
    built: Built,
    member: Member,
    expected: dict[str, dict[str, dict[str, Any]]],
) -> None:
    """Search one word the viewer may see and one written where it may not: equal to the oracle."""
    written = {
        w
        for rec in world.records
        for c, values in rec["values"].items()
        if c == rec["owner"] or rec["statuses"][c] in ("active", "left", "removed")
        for k, v in values.items()
        if k in TEXT_KEYS
        for w in v.casefold().split()
    }
    visible = {
        w
        for spaces in expected.values()
        for fields in spaces.values()
        for k, v in fields.items()
        if k in TEXT_KEYS
        for w in v.casefold().split()
    }
    words = [min(visible, default=None), min(written - visible, default=None)]
    for word in [w for w in words if w is not None]:
        response = client.get(
            "/api/v1/search", params={"q": word, "limit": 500}, headers=member.headers
        )
        assert response.status_code == 200, response.text
        got = {
            item["record_id"]: {(m["owner_company_id"], m["field"]) for m in item["matches"]}
            for item in response.json()["items"]
        }
        assert got == _search_oracle(world, built, expected, word), word


LABELS = {
    "amount": "Amount", "currency": "Currency", "stage": "Stage",
    "forecast_category": "Forecast category", "close_date": "Close date", "region": "Region",
    "product": "Product / solution", "notes": "Notes", "tier": "Tier", "score": "Score",
    "flag": "Flag",
}  # fmt: skip


def _may_filter(
    world: World, built: Built, owner: int, key: str, viewer: int, visible: set[str]
) -> bool:
    """Whether the viewer may name `owner`'s field `key`: a field of its template it shares,
    while it takes part in a record the viewer sees (`visible`: the ids of those records)."""
    in_template = key in STANDARD or key in world.custom_in_template[owner]
    takes_part = any(
        world.records[i]["statuses"][owner] == "active"
        for i, rid in enumerate(built.record_ids)
        if rid in visible
    )
    return in_template and takes_part and _shared_with(world, owner, key, viewer, built.members)


def _own_visible(world: World, viewer: int, key: str) -> bool:
    v = world.visibility[(viewer, key)]
    private = v == "private" or (isinstance(v, list) and not [x for x in v if x != viewer])
    return not (world.hide_private[viewer] and private)


def _cells(fields: dict[str, Any], prefix: str) -> dict[str, str]:
    """The export cells the oracle expects for one masked space."""
    cells: dict[str, str] = {}
    for key, value in fields.items():
        header = f"{prefix}{LABELS[key]}"
        if key == "amount":
            cells[header], cells[f"{header} currency"] = value["value"], value["currency"]
        elif isinstance(value, bool):
            cells[header] = "true" if value else "false"
        else:
            cells[header] = str(value)
    return cells


def _check_list_queries(
    client: TestClient,
    world: World,
    built: Built,
    viewer: int,
    expected: dict[str, dict[str, dict[str, Any]]],
) -> None:
    """Count, filters (own and partner fields, shared or not), a sorted walk and the CSV export
    against the oracle's masked values."""
    member = built.members[viewer]
    url = "/api/v1/opportunities"

    def listed(condition: dict[str, Any], **params: Any) -> Any:
        return client.get(
            url, params={"filter": json.dumps(condition), "limit": 500, **params},
            headers=member.headers,
        )  # fmt: skip

    count = client.get(f"{url}/count", headers=member.headers)
    assert count.status_code == 200, count.text
    assert count.json() == {"count": len(expected)}

    def value_of(rid: str, company: str, key: str) -> Any:
        return expected[rid].get(company, {}).get(key)

    mine = member.company_id
    big = {"field": "mine.amount", "op": "gte", "value": 500000}
    response = listed(big)
    if _own_visible(world, viewer, "amount"):
        assert response.status_code == 200, response.text
        assert {item["id"] for item in response.json()["items"]} == {
            rid
            for rid in expected
            if value_of(rid, mine, "amount") is not None
            and Decimal(value_of(rid, mine, "amount")["value"]) >= 500000
        }
        walked: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"sort": "-mine.amount", "limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = client.get(url, params=params, headers=member.headers).json()
            walked.extend(item["id"] for item in page["items"])
            cursor = page["next_cursor"]
            if not cursor:
                break
        amounts = {rid: value_of(rid, mine, "amount") for rid in expected}
        assert walked == sorted(
            expected,
            key=lambda rid: (
                amounts[rid] is None,
                -Decimal(amounts[rid]["value"]) if amounts[rid] else 0,
                rid,
            ),
        )
    else:
        assert response.status_code == 400, response.text
        assert response.json()["type"] == "/problems/field-not-visible"

    for owner, partner in enumerate(built.members):
        if owner == viewer:
            continue
        company = partner.company_id
        # one field per partner keeps the runtime down; which one varies with the pair
        key, condition, matches = (
            ("product", {"op": "is_not_null"}, lambda v: v is not None),
            ("score", {"op": "gte", "value": 0}, lambda v: v is not None and v >= 0),
        )[(owner + viewer) % 2]
        response = listed({"field": f"{company}.{key}", **condition})
        if not _may_filter(world, built, owner, key, viewer, set(expected)):
            assert response.status_code == 400, response.text
            assert response.json()["type"] == "/problems/field-not-visible"
            continue
        assert response.status_code == 200, response.text
        assert {item["id"] for item in response.json()["items"]} == {
            rid for rid in expected if matches(value_of(rid, company, key))
        }

    exported = client.get(f"{url}/export", params={"format": "csv"}, headers=member.headers)
    assert exported.status_code == 200, exported.text
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {row["id"] for row in rows} == set(expected)
    names = {m.company_id: f"Co{i}: " for i, m in enumerate(built.members)}
    names[mine] = "My "
    for row in rows:
        cells: dict[str, str] = {}
        for company, fields in expected[row["id"]].items():
            cells.update(_cells(fields, names[company]))
        assert set(cells) <= set(row), set(cells) - set(row)
        space_columns = [h for h in row if h.startswith(tuple(names.values()))]
        assert {h: row[h] for h in space_columns} == {h: cells.get(h, "") for h in space_columns}


def _actual_record(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["company_id"]: s["fields"] for s in body["spaces"]}


@settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds())
def test_every_read_path_equals_the_oracle(app: FastAPI, world: World) -> None:
    with TestClient(app) as client:
        try:
            built = _build(client, world)
            for viewer, member in enumerate(built.members):
                expected = _oracle(world, built, viewer)
                for rid in built.record_ids:
                    got = client.get(f"/api/v1/opportunities/{rid}", headers=member.headers)
                    if rid in expected:
                        assert got.status_code == 200, got.text
                        assert _actual_record(got.json()) == expected[rid]
                    else:
                        assert got.status_code == 404
                for page_size in (1, 2, 50):
                    seen: dict[str, dict[str, dict[str, Any]]] = {}
                    cursor = None
                    while True:
                        params: dict[str, Any] = {"limit": page_size}
                        if cursor:
                            params["cursor"] = cursor
                        page = client.get(
                            "/api/v1/opportunities", params=params, headers=member.headers
                        ).json()
                        for item in page["items"]:
                            assert item["id"] not in seen
                            seen[item["id"]] = _actual_record(item)
                        cursor = page["next_cursor"]
                        if not cursor:
                            break
                    assert seen == expected
                invited = {
                    built.record_ids[i]
                    for i, rec in enumerate(world.records)
                    if rec["statuses"][viewer] == "invited"
                }
                inbox = client.get("/api/v1/record-invitations", headers=member.headers).json()
                assert {item["record_id"] for item in inbox} == invited
                _check_search(client, world, built, member, expected)
                _check_list_queries(client, world, built, viewer, expected)
        finally:
            empty_all_tables(app.state.engine)
