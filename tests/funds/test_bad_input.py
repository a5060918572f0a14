"""Bad input and refused changes: claims over the approved amount, approvals beyond the budget
or a partner's cap, a request for a closed period, a claim after its deadline, amounts and
dates that make no sense. Each is a precise 4xx (problem+json, field paths on 422) and leaves
the database as it was."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text

from coterie.models.funds import FundAllocation, FundBudget, FundClaim, FundNote, FundRequest
from tests.fixtures.funds import (
    FUNDS,
    act,
    allot,
    approved,
    attach_proof,
    budget,
    claim,
    day,
    fund_request,
    network,
    request_body,
)
from tests.fixtures.versions import matching


def _rows(engine: Engine, statement: Any) -> list[Any]:
    """Rows as stored, every company's (row-level security bypassed on PostgreSQL)."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT set_config('app.rls_bypass', 'on', true)"))
        return [tuple(row) for row in connection.execute(statement)]


def _count(engine: Engine, model: Any) -> int:
    return int(_rows(engine, select(func.count()).select_from(model))[0][0])


def _state(engine: Engine, budget_id: str) -> tuple[Any, ...]:
    """Everything an approval or a claim may change, for the before/after comparison."""
    bid = uuid.UUID(budget_id)
    budget_row = _rows(
        engine,
        select(FundBudget.committed_cents, FundBudget.paid_cents, FundBudget.version).where(
            FundBudget.id == bid
        ),
    )
    requests = _rows(
        engine,
        select(
            FundRequest.id,
            FundRequest.status,
            FundRequest.approved_amount_cents,
            FundRequest.claimed_cents,
            FundRequest.version,
        )
        .where(FundRequest.budget_id == bid)
        .order_by(FundRequest.id),
    )
    allocations = _rows(
        engine,
        select(FundAllocation.committed_cents, FundAllocation.version).where(
            FundAllocation.budget_id == bid
        ),
    )
    return (budget_row, requests, allocations, _count(engine, FundClaim), _count(engine, FundNote))


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return dict(response.json())


def test_an_approval_beyond_the_budget_is_409_and_writes_nothing(
    client: TestClient, engine: Engine
) -> None:
    net = network(client)
    b = budget(client, net, "5000.00")
    allot(client, net.host, b["id"], net.partner)
    approved(client, net, b["id"], "3000.00")
    second = fund_request(client, net.partner, b["id"], "2500.00", submit=True)
    before = _state(engine, b["id"])
    refused = act(
        client, net.host, f"{FUNDS}/requests/{second['id']}/approve",
        {"approved_amount": "2500.00", "internal_note": "should not be kept"},
    )  # fmt: skip
    problem = _problem(refused, 409)
    assert problem["type"] == "/problems/over-budget"
    assert "2,000.00 EUR remains" in problem["detail"]
    assert _state(engine, b["id"]) == before  # the request stays submitted, no note is kept
    # what does fit is approved
    fits = act(client, net.host, f"{FUNDS}/requests/{second['id']}/approve",
               {"approved_amount": "2000.00"})  # fmt: skip
    assert fits.status_code == 200, fits.text
    got = client.get(f"{FUNDS}/budgets/{b['id']}", headers=net.host.headers).json()
    assert (got["committed"], got["remaining"]) == ("5000.00", "0.00")


def test_an_approval_beyond_the_partner_cap_is_409_and_writes_nothing(
    client: TestClient, engine: Engine
) -> None:
    net = network(client)
    b = budget(client, net, "9000.00")
    allot(client, net.host, b["id"], net.partner, cap="1500.00")
    req = fund_request(client, net.partner, b["id"], "2000.00", submit=True)
    before = _state(engine, b["id"])
    refused = act(client, net.host, f"{FUNDS}/requests/{req['id']}/approve",
                  {"approved_amount": "2000.00"})  # fmt: skip
    problem = _problem(refused, 409)
    assert problem["type"] == "/problems/over-allocation"
    assert "1,500.00 EUR remains" in problem["detail"]
    assert _state(engine, b["id"]) == before


def test_an_approved_amount_over_the_requested_one_is_422(client: TestClient) -> None:
    net = network(client)
    b = budget(client, net)
    allot(client, net.host, b["id"], net.partner)
    req = fund_request(client, net.partner, b["id"], "1000.00", submit=True)
    refused = act(client, net.host, f"{FUNDS}/requests/{req['id']}/approve",
                  {"approved_amount": "1000.01"})  # fmt: skip
    problem = _problem(refused, 422)
    assert problem["errors"][0]["path"] == "body.approved_amount"


def test_claims_over_the_approved_amount_are_refused(client: TestClient, engine: Engine) -> None:
    net = network(client)
    b = budget(client, net)
    allot(client, net.host, b["id"], net.partner)
    req = approved(client, net, b["id"], "1000.00")
    url = f"{FUNDS}/requests/{req['id']}/claims"
    over = client.post(url, json={"amount": "1000.01"}, headers=net.partner.headers)
    assert _problem(over, 422)["errors"][0]["path"] == "body.amount"
    first = claim(client, net.partner, req["id"], "700.00")
    assert first.status_code == 200, first.text
    draft = client.post(
        url, json={"amount": "300.01", "submit": False}, headers=net.partner.headers
    )
    assert attach_proof(client, net.partner, draft.json()["id"]).status_code == 201
    before = _state(engine, b["id"])
    second = act(client, net.partner, f"{FUNDS}/claims/{draft.json()['id']}/submit")
    problem = _problem(second, 409)
    assert problem["type"] == "/problems/over-approved"
    assert "300.00 EUR is left to claim" in problem["detail"]
    assert _state(engine, b["id"]) == before  # the draft stayed a draft, nothing was reserved
    assert claim(client, net.partner, req["id"], "300.00").status_code == 200


def test_a_rejected_claim_frees_its_amount(client: TestClient) -> None:
    net = network(client)
    b = budget(client, net)
    allot(client, net.host, b["id"], net.partner)
    req = approved(client, net, b["id"], "1000.00")
    first = claim(client, net.partner, req["id"], "1000.00").json()
    rejected = act(client, net.host, f"{FUNDS}/claims/{first['id']}/reject",
                   {"message": "No proof of attendance"})  # fmt: skip
    assert rejected.status_code == 200, rejected.text
    again = claim(client, net.partner, req["id"], "1000.00")
    assert again.status_code == 200, again.text


def test_a_request_for_a_closed_period_is_422(client: TestClient, engine: Engine) -> None:
    net = network(client)
    b = budget(client, net)
    allot(client, net.host, b["id"], net.partner)
    url = f"{FUNDS}/budgets/{b['id']}"
    closed = client.patch(url, json={"closed": True}, headers=matching(client, net.host, url))
    assert closed.status_code == 200, closed.text
    count = _count(engine, FundRequest)
    refused = client.post(
        f"{FUNDS}/requests", json=request_body(b["id"]), headers=net.partner.headers
    )
    problem = _problem(refused, 422)
    assert problem["errors"][0]["path"] == "body.budget_id"
    assert "FY27 H1 is closed" in problem["detail"]
    assert _count(engine, FundRequest) == count


def test_a_period_that_ended_takes_no_requests(client: TestClient) -> None:
    net = network(client)
    b = budget(client, net, period_start=day(-200), period_end=day(-1))
    allot(client, net.host, b["id"], net.partner)
    refused = client.post(
        f"{FUNDS}/requests", json=request_body(b["id"]), headers=net.partner.headers
    )
    assert _problem(refused, 422)["errors"][0]["path"] == "body.budget_id"


def test_a_claim_after_the_deadline_needs_an_extension(client: TestClient) -> None:
    net = network(client)
    b = budget(client, net)
    allot(client, net.host, b["id"], net.partner)
    req = fund_request(
        client, net.partner, b["id"], "500.00", submit=True,
        starts_on=day(-20), ends_on=day(-10), claim_deadline=day(-1),
    )  # fmt: skip
    url = f"{FUNDS}/requests/{req['id']}"
    assert act(client, net.host, f"{url}/approve", {"approved_amount": "500.00"}).status_code == 200
    late = client.post(f"{url}/claims", json={"amount": "500.00"}, headers=net.partner.headers)
    assert _problem(late, 422)["errors"][0]["path"] == "claim_deadline"
    too_soon = act(client, net.partner, f"{url}/extension",
                   {"new_deadline": day(-2), "reason": "Late invoices"})  # fmt: skip
    assert _problem(too_soon, 422)["errors"][0]["path"] == "body.new_deadline"
    assert act(client, net.partner, f"{url}/extension",
               {"new_deadline": day(14), "reason": "Late invoices"}).status_code == 200  # fmt: skip
    declined = act(client, net.host, f"{url}/extension/decline")
    assert declined.json()["extension_status"] == "declined"
    still_late = client.post(
        f"{url}/claims", json={"amount": "500.00"}, headers=net.partner.headers
    )
    assert still_late.status_code == 422
    assert act(client, net.partner, f"{url}/extension",
               {"new_deadline": day(14), "reason": "Really"}).status_code == 200  # fmt: skip
    assert act(client, net.host, f"{url}/extension/grant").status_code == 200
    on_time = claim(client, net.partner, req["id"], "500.00")
    assert on_time.status_code == 200, on_time.text


def test_bad_amounts_dates_and_shapes_are_422_with_paths(client: TestClient) -> None:
    net = network(client)
    b = budget(client, net)
    allot(client, net.host, b["id"], net.partner)
    cases = {
        "body.requested_amount": {"requested_amount": "-5"},
        "body.contribution_pct": {"contribution_pct": 101},
        "body.currency": {"currency": "USD"},
        "body.ends_on": {"starts_on": day(20), "ends_on": day(10)},
        "body.claim_deadline": {"claim_deadline": day(20)},
        "body.campaign_id": {"campaign_id": "00000000-0000-4000-8000-000000000000"},
    }
    for path, change in cases.items():
        response = client.post(
            f"{FUNDS}/requests", json=request_body(b["id"], **change), headers=net.partner.headers
        )
        problem = _problem(response, 422)
        assert path in {e["path"] for e in problem["errors"]}, (path, problem)
    bad_budget = client.post(
        f"{FUNDS}/budgets",
        json={"program_id": net.program_id, "name": "X", "period_name": "P",
              "period_start": day(10), "period_end": day(1), "currency": "EUR", "total": "1"},
        headers=net.host.headers,
    )  # fmt: skip
    assert _problem(bad_budget, 422)["errors"][0]["path"] == "body.period_end"


def test_who_may_do_what(client: TestClient) -> None:
    net = network(client)
    b = budget(client, net)
    allot(client, net.host, b["id"], net.partner)
    # a company without an allocation does not see the budget: 404, as if it did not exist
    assert client.get(f"{FUNDS}/budgets/{b['id']}", headers=net.other.headers).status_code == 404
    hidden = client.post(f"{FUNDS}/requests", json=request_body(b["id"]), headers=net.other.headers)
    assert hidden.status_code == 404
    req = fund_request(client, net.partner, b["id"], submit=True)
    url = f"{FUNDS}/requests/{req['id']}"
    # the requester cannot approve its own request
    assert (
        act(client, net.partner, f"{url}/approve", {"approved_amount": "1.00"}).status_code == 403
    )
    # without If-Match: 428; with a stale one: 412
    assert client.post(f"{url}/approve", json={"approved_amount": "1.00"},
                       headers=net.host.headers).status_code == 428  # fmt: skip
    stale = client.post(f"{url}/approve", json={"approved_amount": "1.00"},
                        headers={**net.host.headers, "If-Match": '"99"'})  # fmt: skip
    assert stale.status_code == 412
    # an allocation only for a company on the program
    stranger = client.post(
        f"{FUNDS}/budgets/{b['id']}/allocations",
        json={"partner_company_id": net.host.company_id},
        headers=net.host.headers,
    )
    assert _problem(stranger, 422)["errors"][0]["path"] == "body.partner_company_id"


def test_the_before_and_after_reads_see_the_rows(client: TestClient, engine: Engine) -> None:
    """The state compared above is the stored rows, not an empty view (RLS bypassed)."""
    net = network(client)
    b = budget(client, net)
    allot(client, net.host, b["id"], net.partner)
    approved(client, net, b["id"], "100.00")
    budget_row, requests, allocations, _claims, _notes = _state(engine, b["id"])
    assert budget_row[0][0] == 10000
    assert len(requests) == 1
    assert allocations[0][0] == 10000
