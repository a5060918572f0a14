"""Rules against a naive oracle: after every step of a generated history (records change, teams
change, rules are added, edited and deleted), what each user sees and what is shared with the
partner equals what plain Python says the rules grant. Revocation is immediate on every path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coterie.authz import conditions
from coterie.authz.conditions import FieldSpec
from tests.conftest import empty_all_tables
from tests.fixtures.builders import Member, make_colleague, make_company, make_partnership
from tests.fixtures.records import fill_space, put_template
from tests.fixtures.smtp import Inbox
from tests.fixtures.versions import matching

OPPS = "/api/v1/opportunities"
REGIONS = ["emea", "apac", "north-america"]
CATALOG = {
    "region": FieldSpec("enum", options=tuple(REGIONS)),
    "amount": FieldSpec("money"),
}

leaves = st.one_of(
    st.builds(lambda v: {"field": "region", "op": "eq", "value": v}, st.sampled_from(REGIONS)),
    st.builds(lambda v: {"field": "region", "op": "ne", "value": v}, st.sampled_from(REGIONS)),
    st.builds(lambda v: {"field": "amount", "op": "gte", "value": v}, st.integers(0, 100)),
    st.just({"field": "region", "op": "is_null"}),
)
conditions_strategy = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(lambda c: {"all": c}, st.lists(inner, max_size=2)),
        st.builds(lambda c: {"any": c}, st.lists(inner, max_size=2)),
        st.builds(lambda c: {"not": c}, inner),
    ),
    max_leaves=4,
)
region_values = st.one_of(st.none(), st.sampled_from(REGIONS))
amounts = st.one_of(st.none(), st.integers(0, 100))


@dataclass
class Rule:
    type: str  # visibility | auto_share
    condition: dict[str, Any]
    users: list[int]  # indexes of members (1, 2) for visibility rules
    teams: list[int]


steps = st.one_of(
    st.tuples(st.just("edit"), st.integers(0, 5), region_values, amounts),
    st.tuples(st.just("team"), st.integers(0, 1), st.lists(st.integers(1, 2), unique=True)),
    st.tuples(st.just("delete_rule"), st.integers(0, 5)),
    st.tuples(
        st.just("add_rule"),
        st.builds(
            Rule,
            st.sampled_from(["visibility", "auto_share"]),
            conditions_strategy,
            st.lists(st.integers(1, 2), unique=True, max_size=2),
            st.lists(st.integers(0, 1), unique=True, max_size=2),
        ),
    ),
)


@dataclass
class State:
    records: list[dict[str, Any]]  # {"id", "creator", "region", "amount"}
    teams: list[set[int]]
    rules: list[tuple[str, Rule]]  # (rule id, rule)


def _matches(rule: Rule, record: dict[str, Any]) -> bool:
    parsed = conditions.parse(rule.condition or {"all": []}, CATALOG)
    return conditions.evaluate(parsed, {"region": record["region"], "amount": record["amount"]})


def _expected_visible(state: State, member: int) -> set[str]:
    visibility = [r for _, r in state.rules if r.type == "visibility"]
    if member == 0 or not visibility:
        return {r["id"] for r in state.records}
    seen = set()
    for record in state.records:
        if record["creator"] == member:
            seen.add(record["id"])
        for rule in visibility:
            granted = member in rule.users or any(member in state.teams[t] for t in rule.teams)
            if granted and _matches(rule, record):
                seen.add(record["id"])
    return seen


def _expected_shared(state: State) -> set[str]:
    sharing = [r for _, r in state.rules if r.type == "auto_share"]
    return {rec["id"] for rec in state.records if any(_matches(r, rec) for r in sharing)}


def _visible(client: TestClient, who: Member) -> set[str]:
    body = client.get(OPPS, params={"limit": 500}, headers=who.headers).json()
    return {item["id"] for item in body["items"]}


def _rule_body(
    rule: Rule, team_ids: list[str], members: list[Member], partner: Member
) -> dict[str, Any]:
    grantees: dict[str, Any]
    if rule.type == "visibility":
        users = [members[i].user_id for i in rule.users]
        teams = [team_ids[t] for t in rule.teams]
        if not users and not teams:
            users = [members[1].user_id]
            rule.users = [1]
        grantees = {"users": users, "teams": teams}
    else:
        grantees = {"companies": [partner.company_id]}
    return {
        "kind": "opportunity",
        "name": "r",
        "type": rule.type,
        "condition": rule.condition,
        "grantees": grantees,
    }


@settings(
    deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    records=st.lists(st.tuples(st.integers(0, 2), region_values, amounts), min_size=1, max_size=4),
    history=st.lists(steps, min_size=1, max_size=6),
)
def test_grants_follow_rules_through_any_history(
    app: FastAPI, inbox: Inbox, records: list[tuple[int, Any, Any]], history: list[Any]
) -> None:
    with TestClient(app) as client:
        try:
            admin = make_company(client, "Acme")
            members = [admin] + [
                make_colleague(client, admin, "member", inbox=inbox) for _ in range(2)
            ]
            partner = make_company(client, "Globex")
            make_partnership(client, admin, partner)
            put_template(client, admin, {"key": "region", "visibility": "participants"})
            team_ids = [
                client.post("/api/v1/teams", json={"name": f"T{t}"}, headers=admin.headers).json()[
                    "id"
                ]
                for t in range(2)
            ]
            state = State(records=[], teams=[set(), set()], rules=[])
            for i, (creator, region, amount) in enumerate(records):
                fields = {
                    k: v for k, v in {"region": region, "amount": amount}.items() if v is not None
                }
                created = client.post(
                    OPPS,
                    json={"title": f"R{i}", "fields": fields},
                    headers=members[creator].headers,
                )
                assert created.status_code == 201, created.text
                state.records.append(
                    {
                        "id": created.json()["id"],
                        "creator": creator,
                        "region": region,
                        "amount": amount,
                    }
                )

            def check() -> None:
                for m, member in enumerate(members):
                    assert _visible(client, member) == _expected_visible(state, m), f"member {m}"
                invited = {
                    i["record_id"]
                    for i in client.get(
                        "/api/v1/record-invitations", headers=partner.headers
                    ).json()
                }
                assert invited == _expected_shared(state)

            check()
            for step in history:
                if step[0] == "edit" and step[1] < len(state.records):
                    record = state.records[step[1]]
                    record["region"], record["amount"] = step[2], step[3]
                    fill_space(client, admin, record["id"], region=step[2], amount=step[3])
                elif step[0] == "team":
                    state.teams[step[1]] = set(step[2])
                    r = client.patch(
                        f"/api/v1/teams/{team_ids[step[1]]}",
                        json={"members": [members[m].user_id for m in step[2]]},
                        headers=admin.headers,
                    )
                    assert r.status_code == 200, r.text
                elif step[0] == "delete_rule" and step[1] < len(state.rules):
                    rule_id, _ = state.rules.pop(step[1])
                    url = f"/api/v1/rules/{rule_id}"
                    deleted = client.delete(url, headers=matching(client, admin, url))
                    assert deleted.status_code == 204, deleted.text
                elif step[0] == "add_rule":
                    rule = step[1]
                    r = client.post(
                        "/api/v1/rules",
                        json=_rule_body(rule, team_ids, members, partner),
                        headers=admin.headers,
                    )
                    assert r.status_code == 201, r.text
                    state.rules.append((r.json()["id"], rule))
                check()
        finally:
            empty_all_tables(app.state.engine)
