"""Board data: counts and totals per stage equal a hand computation (with and without an
exchange rate), scopes (plan, program, saved filter, filter) count only what the viewer may
see, one column pages with a cursor, and hidden values never group nor leak."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from tests.fixtures.builders import Member, make_colleague, make_company, make_partnership
from tests.fixtures.cosell import API, link, rates, template
from tests.fixtures.smtp import Inbox
from tests.fixtures.versions import matching
from tests.fixtures.workflows import (
    fill,
    join,
    move,
    program_on_plan,
    record,
    workflow,
)

CANARY = "424242.00"


def _board(client: TestClient, who: Member, **params: Any) -> dict[str, Any]:
    response = client.get(
        f"{API}/boards", params={"kind": "opportunity", **params}, headers=who.headers
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _columns(
    board: dict[str, Any],
) -> dict[str | None, tuple[int, str | None, list[tuple[str, str]]]]:
    columns = [*board["stages"], *([board["unstaged"]] if board["unstaged"] else [])]
    return {
        c["key"]: (
            c["count"],
            c["total"]["amount"] if c["total"] else None,
            [(u["currency"], u["amount"]) for u in c["unconverted"]],
        )
        for c in columns
    }


def _money(value: str, currency: str) -> dict[str, str]:
    return {"value": value, "currency": currency}


def test_counts_and_totals_equal_a_hand_computation(client: TestClient) -> None:
    acme = make_company(client, "Acme", currency="USD")
    partner = make_company(client, "Partner", currency="EUR")
    make_partnership(client, acme, partner)
    rates(client, acme, ("EUR", "1.10", "2020-01-01"))  # no GBP rate
    legacy = record(
        client, acme, "opportunity", "Legacy", stage="legacy", amount=_money("7", "EUR")
    )
    # before the workflow: a record without a stage (a new one would enter Qualify)
    record(client, acme, "opportunity", "No stage", amount=50)
    wf = workflow(client, acme, template="standard_pipeline")
    q1 = record(client, acme, "opportunity", "Q1", stage="qualify", amount=1000)
    q2 = record(client, acme, "opportunity", "Q2", stage="qualify", amount=_money("500", "EUR"))
    p1 = record(client, acme, "opportunity", "P1", stage="propose", amount=_money("200", "GBP"))
    record(client, acme, "opportunity", "P2", stage="propose", amount=300)
    record(client, acme, "opportunity", "Won, no amount", stage="won", close_date="2026-01-01")
    # a partner's deal Acme joined: Acme's own space decides its column and amount
    theirs = record(client, partner, "opportunity", "Partner deal", amount=424242)
    join(client, partner, "opportunity", theirs, acme)
    fill(client, acme, "opportunity", theirs, stage="develop", amount=10)
    # a partner's deal Acme is not on never counts
    record(client, partner, "opportunity", "Not Acme's", amount=999)

    board = _board(client, acme)
    assert board["workflow"]["id"] == wf["id"]
    assert board["currency"] == "USD"
    assert _columns(board) == {
        "qualify": (2, "1550.00", []),
        "develop": (1, "10.00", []),
        "propose": (2, "300.00", [("GBP", "200.00")]),
        "negotiate": (0, "0.00", []),
        "won": (1, "0.00", []),
        "lost": (0, "0.00", []),
        None: (2, "57.70", []),  # no stage (50 USD) and a stage the workflow lacks (7 EUR)
    }
    qualify = board["stages"][0]
    assert {c["id"] for c in qualify["cards"]} == {q1, q2}
    card = next(c for c in qualify["cards"] if c["id"] == q2)
    assert card["amount"] == {"value": "500.00", "currency": "EUR"}
    assert card["participants"] == ["Acme"]
    develop_card = board["stages"][1]["cards"][0]
    assert develop_card["participants"] == ["Acme", "Partner"]
    assert CANARY not in str(board)
    assert "424242" not in str(board)
    assert {c["id"] for c in board["unstaged"]["cards"]} >= {legacy}
    propose = {c["title"]: c["id"] for c in board["stages"][2]["cards"]}
    assert set(propose) == {"P1", "P2"}
    assert propose["P1"] == p1

    # the partner's board counts its own space: the deal Acme joined has no stage there
    theirs_board = _board(client, partner)
    assert theirs_board["workflow"]["scope"] == "default"
    assert _columns(theirs_board)[None] == (2, "425241.00", [])


def test_one_column_pages_with_a_cursor(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    ids = {
        record(
            client, acme, "opportunity", f"Deal {n}", stage="qualify", close_date=f"2026-0{n}-01"
        )
        for n in (1, 2, 3)
    }
    first = _board(client, acme, stage="qualify", limit=2)
    assert first["unstaged"] is None
    assert len(first["stages"]) == 1
    column = first["stages"][0]
    assert column["count"] == 3
    assert [c["title"] for c in column["cards"]] == ["Deal 1", "Deal 2"]  # by close date
    second = _board(client, acme, stage="qualify", limit=2, cursor=column["next_cursor"])
    assert [c["title"] for c in second["stages"][0]["cards"]] == ["Deal 3"]
    assert second["stages"][0]["next_cursor"] is None
    assert {c["id"] for c in [*column["cards"], *second["stages"][0]["cards"]]} == ids
    bad = client.get(
        f"{API}/boards", params={"kind": "opportunity", "stage": "nope"}, headers=acme.headers
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["path"] == "query.stage"


def test_a_plan_board_counts_only_linked_records_the_viewer_may_see(
    client: TestClient,
) -> None:
    acme = make_company(client, "Acme")
    partner = make_company(client, "Partner")
    stranger = make_company(client, "Stranger")
    make_partnership(client, acme, partner)
    plan_id = record(client, acme, "plan", "FY26 joint plan")
    join(client, acme, "plan", plan_id, partner)
    linked = record(client, acme, "opportunity", "Linked", stage="qualify", amount=100)
    record(client, acme, "opportunity", "Not linked", stage="qualify", amount=1)
    partners_own = record(client, partner, "opportunity", "Partner only", stage="qualify", amount=7)
    link(client, acme, plan_id, linked)
    link(client, partner, plan_id, partners_own)

    acme_view = _columns(_board(client, acme, plan_id=plan_id))
    assert acme_view["qualify"] == (1, "100.00", [])
    partner_view = _columns(_board(client, partner, plan_id=plan_id))
    assert partner_view["qualify"] == (1, "7.00", [])
    hidden = client.get(
        f"{API}/boards",
        params={"kind": "opportunity", "plan_id": plan_id},
        headers=stranger.headers,
    )
    assert hidden.status_code == 404
    two = client.get(
        f"{API}/boards",
        params={"kind": "opportunity", "plan_id": plan_id, "filter": "{}"},
        headers=acme.headers,
    )
    assert two.status_code == 422


def test_a_program_board_on_the_program_workflow_groups_by_joint_stage(
    client: TestClient, inbox: Inbox
) -> None:
    host = make_company(client, "Host")
    partner = make_company(client, "Partner")
    make_partnership(client, host, partner)
    program_id = record(client, host, "program", "Co-sell program")
    join(client, host, "program", program_id, partner)
    wf = workflow(
        client,
        host,
        program_id=program_id,
        kind="opportunity",
        name="Joint pipeline",
        stages=[
            {"key": "sourced", "name": "Sourced"},
            {"key": "closed", "name": "Closed", "category": "won"},
        ],
    )
    plan_id = record(client, host, "plan", "Plan in the program")
    join(client, host, "plan", plan_id, partner)
    program_on_plan(client, host, program_id, plan_id)
    deal = record(client, host, "opportunity", "Joint deal", amount=40)
    join(client, host, "opportunity", deal, partner)
    fill(client, partner, "opportunity", deal, amount=60)
    link(client, host, plan_id, deal)
    # the workflow applies through the plan link: the partner moves it
    move(client, partner, "opportunity", deal, wf["id"], "sourced")

    host_board = _board(client, host, program_id=program_id, workflow_id=wf["id"])
    assert host_board["workflow"]["drives"] == "joint_stage"
    assert _columns(host_board)["sourced"] == (1, "40.00", [])
    partner_board = _board(client, partner, program_id=program_id, workflow_id=wf["id"])
    assert _columns(partner_board)["sourced"] == (1, "60.00", [])
    assert partner_board["stages"][0]["cards"][0]["joint_stage"] == "sourced"


def test_saved_filters_scope_the_board_and_stay_in_the_company(
    client: TestClient, inbox: Inbox
) -> None:
    acme = make_company(client, "Acme")
    colleague = make_colleague(client, acme, "member", inbox=inbox)
    other = make_company(client, "Other")
    for title, amount in (("Small", 300), ("Large", 1000), ("Medium", 500)):
        record(client, acme, "opportunity", title, stage="qualify", amount=amount)
    big = {"field": "mine.amount", "op": "gte", "value": 400}
    created = client.post(
        f"{API}/saved-filters",
        json={"kind": "opportunity", "name": "Big deals", "filter": big},
        headers=acme.headers,
    )
    assert created.status_code == 201, created.text
    saved = created.json()
    board = _board(client, acme, saved_filter_id=saved["id"])
    assert _columns(board)["qualify"] == (2, "1500.00", [])
    assert board["scope"] == {"type": "saved_filter", "id": saved["id"], "name": "Big deals"}
    # the same filter given inline
    assert _columns(_board(client, acme, filter=json.dumps(big)))["qualify"][0] == 2
    # private to its author until shared with the company; never seen by other companies
    url = f"{API}/saved-filters/{saved['id']}"
    assert client.get(url, headers=colleague.headers).status_code == 404
    shared = client.put(
        url,
        json={
            "kind": "opportunity",
            "name": "Big deals",
            "filter": big,
            "shared_with_company": True,
        },
        headers={**acme.headers, "If-Match": "1"},
    )
    assert shared.status_code == 200, shared.text
    assert _columns(_board(client, colleague, saved_filter_id=saved["id"]))["qualify"][0] == 2
    takeover = {"kind": "opportunity", "name": "Mine now", "filter": big}
    assert (
        client.put(url, json=takeover, headers=matching(client, colleague, url)).status_code == 403
    )
    for response in (
        client.get(url, headers=other.headers),
        client.get(
            f"{API}/boards",
            params={"kind": "opportunity", "saved_filter_id": saved["id"]},
            headers=other.headers,
        ),
    ):
        assert response.status_code == 404
    assert client.get(f"{API}/saved-filters", headers=other.headers).json() == []
    # a filter on a field the author cannot see is refused on save
    partner_field = client.post(
        f"{API}/saved-filters",
        json={
            "kind": "opportunity",
            "name": "x",
            "filter": {"field": f"{other.company_id}.amount", "op": "gt", "value": 1},
        },
        headers=acme.headers,
    )
    assert partner_field.status_code == 400
    assert client.delete(url, headers=matching(client, acme, url)).status_code == 204


def test_hidden_private_fields_neither_group_nor_total(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    record(client, acme, "opportunity", "Private", stage="qualify", amount=77)
    hide = client.patch(
        f"{API}/me/preferences", json={"hide_private_fields": True}, headers=acme.headers
    )
    assert hide.status_code == 200, hide.text
    grouped = client.get(f"{API}/boards", params={"kind": "opportunity"}, headers=acme.headers)
    assert grouped.status_code == 400
    problem = grouped.json()
    assert problem["type"] == "/problems/field-not-visible"
    problem.pop("request_id", None)  # a random hex id may hold "77" by chance
    assert "77" not in json.dumps(problem)


def test_a_hidden_private_amount_leaves_the_board_without_totals(client: TestClient) -> None:
    """Stage shared, amount private: with private fields hidden the board still groups (it
    failed with `sum(text)` on PostgreSQL) but shows no amount and no total."""
    acme = make_company(client, "Acme")
    template(client, acme, "opportunity", stage="participants")
    record(client, acme, "opportunity", "Private amount", stage="qualify", amount=737373)
    hide = client.patch(
        f"{API}/me/preferences", json={"hide_private_fields": True}, headers=acme.headers
    )
    assert hide.status_code == 200, hide.text
    board = _board(client, acme)
    assert board["amounts_hidden"] is True
    assert _columns(board)["qualify"][:2] == (1, None)
    assert "737373" not in json.dumps(board)
