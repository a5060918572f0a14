"""GET /api/v1/network/graph: my partners as nodes, shared records I can see as weighted edges."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.fixtures.builders import Member, make_company, make_partnership
from tests.fixtures.cosell import join, record
from tests.fixtures.pipeline import make_lead, nominate
from tests.kit.assertions import assert_problem

GRAPH = "/api/v1/network/graph"


def graph_of(client: TestClient, who: Member) -> dict[str, Any]:
    response = client.get(GRAPH, headers=who.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def edges_by_pair(graph: dict[str, Any]) -> dict[frozenset[str], tuple[int, dict[str, int]]]:
    return {
        frozenset((e["source"], e["target"])): (e["weight"], e["by_kind"]) for e in graph["edges"]
    }


def pair(a: Member, b: Member) -> frozenset[str]:
    return frozenset((a.company_id, b.company_id))


class Network:
    """Acme with partners Bolt and Cobalt (active) and Delta (pending); Echo is a stranger."""

    def __init__(self, client: TestClient) -> None:
        self.acme = make_company(client, "Acme")
        self.bolt = make_company(client, "Bolt")
        self.cobalt = make_company(client, "Cobalt")
        self.delta = make_company(client, "Delta")
        self.echo = make_company(client, "Echo")
        make_partnership(client, self.acme, self.bolt)
        make_partnership(client, self.acme, self.cobalt)
        make_partnership(client, self.bolt, self.cobalt)
        make_partnership(client, self.acme, self.delta, accept=False)
        make_partnership(client, self.bolt, self.echo)


def test_graph_counts_the_shared_records_i_can_see_per_pair_and_kind(client: TestClient) -> None:
    n = Network(client)
    # Acme + Bolt on two opportunities, one of them with Cobalt too; Acme + Cobalt on a plan
    first = record(client, n.acme, "opportunity", "Deal one")
    join(client, n.acme, "opportunity", first, n.bolt)
    second = record(client, n.acme, "opportunity", "Deal two")
    join(client, n.acme, "opportunity", second, n.bolt, n.cobalt)
    plan = record(client, n.acme, "plan", "Joint plan")
    join(client, n.acme, "plan", plan, n.cobalt)
    # invited but not accepted: not (yet) shared
    lead = make_lead(client, n.acme, "A nominated lead")
    nominate(client, n.acme, lead, n.bolt)
    # Acme alone: no pair at all
    record(client, n.acme, "account", "Only ours")

    graph = graph_of(client, n.acme)

    assert graph["me"] == n.acme.company_id
    roles = {node["name"]: node["role"] for node in graph["nodes"]}
    assert roles == {"Acme": "me", "Bolt": "partner", "Cobalt": "partner", "Delta": "pending"}
    assert edges_by_pair(graph) == {
        pair(n.acme, n.bolt): (2, {"opportunity": 2}),
        pair(n.acme, n.cobalt): (2, {"opportunity": 1, "plan": 1}),
        pair(n.bolt, n.cobalt): (1, {"opportunity": 1}),
    }
    shared = {node["name"]: node["shared_with_me"] for node in graph["nodes"]}
    assert shared == {"Acme": 0, "Bolt": 2, "Cobalt": 2, "Delta": 0}
    assert graph["truncated"] is False


def test_a_record_between_two_of_my_partners_that_i_am_not_on_adds_nothing(
    client: TestClient,
) -> None:
    n = Network(client)
    together = record(client, n.acme, "opportunity", "All three")
    join(client, n.acme, "opportunity", together, n.bolt, n.cobalt)
    before = graph_of(client, n.acme)

    # Bolt and Cobalt work on records of their own, without Acme
    for kind in ("opportunity", "plan", "account"):
        private = record(client, n.bolt, kind, f"Bolt and Cobalt only ({kind})")
        join(client, n.bolt, kind, private, n.cobalt)

    after = graph_of(client, n.acme)
    assert after == before
    assert edges_by_pair(after)[pair(n.bolt, n.cobalt)] == (1, {"opportunity": 1})
    # Bolt, who is on them, sees them counted (and its own partner Echo, not Acme's)
    bolts = edges_by_pair(graph_of(client, n.bolt))
    assert bolts[pair(n.bolt, n.cobalt)] == (
        4,
        {"opportunity": 2, "plan": 1, "account": 1},
    )
    assert n.echo.company_id in {node["id"] for node in graph_of(client, n.bolt)["nodes"]}


def test_leaving_a_record_takes_it_out_of_my_graph_at_once(client: TestClient) -> None:
    n = Network(client)
    deal = record(client, n.bolt, "opportunity", "Short-lived")
    join(client, n.bolt, "opportunity", deal, n.acme, n.cobalt)
    edges = edges_by_pair(graph_of(client, n.acme))
    assert edges[pair(n.bolt, n.cobalt)] == (1, {"opportunity": 1})
    assert edges[pair(n.acme, n.cobalt)] == (1, {"opportunity": 1})

    left = client.delete(
        f"/api/v1/opportunities/{deal}/participants/{n.acme.company_id}", headers=n.acme.headers
    )
    assert left.status_code == 204, left.text

    assert edges_by_pair(graph_of(client, n.acme)) == {}
    assert edges_by_pair(graph_of(client, n.bolt))[pair(n.bolt, n.cobalt)][0] == 1


def test_a_new_company_is_a_graph_of_one(client: TestClient) -> None:
    alone = make_company(client, "Solo")
    graph = graph_of(client, alone)
    assert [(node["name"], node["role"]) for node in graph["nodes"]] == [("Solo", "me")]
    assert graph["edges"] == []


def test_the_graph_needs_a_token(client: TestClient) -> None:
    assert_problem(client.get(GRAPH), 401, "unauthenticated")
