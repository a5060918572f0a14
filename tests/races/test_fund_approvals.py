"""The budget race (issue 17): approvals that together exceed what a budget (or a partner's
cap) has left, released at the same instant against uvicorn with 2 workers on PostgreSQL, the
app connected as a role row-level security applies to. Exactly as many win as fit, the others
get 409 problem+json (never a 5xx), and committed never exceeds the total.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from coterie.db import utcnow
from tests.fixtures.builders import PASSWORD, Member
from tests.races.test_concurrent_writes import (
    API,
    api,
    company,
    if_match,
    ok,
    partners,
    race,
    server,
)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("races")]
__all__ = ["api", "server"]  # the fixtures: the module's served app and a client of it
FUNDS = f"{API}/funds"


def day(offset: int) -> str:
    return (utcnow().date() + timedelta(days=offset)).isoformat()


def signup(api: httpx.Client, name: str) -> Member:
    tag = uuid.uuid4().hex[:8]
    email = f"admin@{name.lower()}-{tag}.example"
    body = ok(api.post(f"{API}/signup", json={
        "company": {"name": f"{name} {tag}", "domain": f"{name.lower()}-{tag}.example"},
        "user": {"name": f"{name} admin", "email": email, "password": PASSWORD},
    }), 201)  # fmt: skip
    return Member(body["token"], body["company_id"], body["user_id"], email)


def second_session(api: httpx.Client, who: Member) -> Member:
    """Another signed-in session of the host's approver, with its own token (the race server
    sends no e-mail, so no colleague can accept an invitation there)."""
    token = ok(api.post(f"{API}/auth/token", json={"email": who.email, "password": PASSWORD}))
    return Member(token["access_token"], who.company_id, who.user_id, who.email)


def funded_network(
    api: httpx.Client, total: str, cap: str | None = None
) -> tuple[Member, Member, str]:
    host = signup(api, "Host")
    partner = company(api, "Partner")
    partners(api, host, partner)
    program = ok(api.post(f"{API}/programs", json={"title": "Co-marketing", "fields": {}},
                          headers=host.headers), 201)["id"]  # fmt: skip
    asked = api.post(f"{API}/programs/{program}/participants",
                     json={"company_id": partner.company_id}, headers=host.headers)  # fmt: skip
    assert asked.status_code == 201, asked.text
    ok(api.post(f"{API}/programs/{program}/participants/{partner.company_id}/accept",
                headers=partner.headers))  # fmt: skip
    budget = ok(api.post(f"{FUNDS}/budgets", headers=host.headers, json={
        "program_id": program, "name": "MDF", "period_name": "FY27 H1",
        "period_start": day(-10), "period_end": day(100), "currency": "EUR", "total": total,
    }), 201)  # fmt: skip
    ok(api.post(f"{FUNDS}/budgets/{budget['id']}/allocations", headers=host.headers,
                json={"partner_company_id": partner.company_id, "cap": cap}))  # fmt: skip
    return host, partner, str(budget["id"])


def submitted(api: httpx.Client, partner: Member, budget_id: str, amount: str) -> dict[str, Any]:
    return dict(ok(api.post(f"{FUNDS}/requests", headers=partner.headers, json={
        "budget_id": budget_id, "activity": "Webinar", "requested_amount": amount,
        "currency": "EUR", "starts_on": day(5), "ends_on": day(6), "claim_deadline": day(30),
        "submit": True,
    }), 201))  # fmt: skip


def approvals(host_sessions: list[Member], requests: list[dict[str, Any]]) -> Any:
    def approve_its_own_request(client: httpx.Client, i: int) -> httpx.Response:
        request = requests[i]
        return client.post(
            f"{FUNDS}/requests/{request['id']}/approve",
            json={"approved_amount": request["requested_amount"]},
            headers=if_match(host_sessions[i % len(host_sessions)], request["version"]),
        )

    return approve_its_own_request


def _refusals_are_clean(responses: list[httpx.Response], slug: str) -> None:
    for response in responses:
        if not response.is_success:
            assert response.status_code == 409, (response.status_code, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["type"] == f"/problems/{slug}"


def test_two_approvers_exceeding_the_budget_one_wins(api: httpx.Client, server: str) -> None:
    host, partner, budget_id = funded_network(api, "1000.00")
    approvers = [host, second_session(api, host)]
    requests = [submitted(api, partner, budget_id, "600.00") for _ in range(2)]
    outcome = race(server, approvals(approvers, requests), n=2)
    outcome.winner()  # exactly one; the other a clean 409
    _refusals_are_clean(outcome.responses, "over-budget")
    budget = ok(api.get(f"{FUNDS}/budgets/{budget_id}", headers=host.headers))
    assert (budget["committed"], budget["remaining"]) == ("600.00", "400.00")
    statuses = sorted(
        ok(api.get(f"{FUNDS}/requests/{r['id']}", headers=host.headers))["status"] for r in requests
    )
    assert statuses == ["approved", "submitted"]  # the loser's request was left as it was


def test_many_concurrent_approvals_never_over_commit(api: httpx.Client, server: str) -> None:
    host, partner, budget_id = funded_network(api, "5000.00")
    requests = [submitted(api, partner, budget_id, "400.00") for _ in range(20)]
    outcome = race(server, approvals([host], requests), n=20)
    won = [r for r in outcome.responses if r.is_success]
    assert len(won) == 12, outcome.statuses  # 12 x 400 fit in 5,000; a 13th would not
    _refusals_are_clean(outcome.responses, "over-budget")
    budget = ok(api.get(f"{FUNDS}/budgets/{budget_id}", headers=host.headers))
    assert budget["committed"] == "4800.00"
    listed = ok(api.get(f"{FUNDS}/requests?budget_id={budget_id}&status=approved&limit=500",
                        headers=host.headers))["items"]  # fmt: skip
    assert sum(float(r["approved_amount"]) for r in listed) == 4800.0


def test_concurrent_approvals_respect_the_partner_cap(api: httpx.Client, server: str) -> None:
    host, partner, budget_id = funded_network(api, "100000.00", cap="1000.00")
    requests = [submitted(api, partner, budget_id, "300.00") for _ in range(6)]
    outcome = race(server, approvals([host], requests), n=6)
    assert sum(r.is_success for r in outcome.responses) == 3, outcome.statuses
    _refusals_are_clean(outcome.responses, "over-allocation")
    allocation = ok(api.get(f"{FUNDS}/budgets/{budget_id}/allocations", headers=host.headers))
    assert allocation["items"][0]["committed"] == "900.00"
