"""The triage race (issue 17): the program's host accepts and declines the same idea from many
requests released at once against uvicorn with 2 workers on PostgreSQL (the app connected as a
role row-level security applies to). The idea's row is claimed by the UPDATE that decides it
(`WHERE status = 'open'`): exactly one request wins, every other is 409, and exactly one record
came of it (or none, when a decline won)."""

from __future__ import annotations

import httpx
import pytest

from tests.races.test_concurrent_writes import API, company, ok, partners, race
from tests.races.test_concurrent_writes import api as api
from tests.races.test_concurrent_writes import server as server

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("races")]


def test_two_hosts_triage_one_idea(api: httpx.Client, server: str) -> None:
    host, partner = company(api, "Host"), company(api, "Seller")
    partners(api, host, partner)
    program = ok(api.post(f"{API}/programs", json={"title": "Race program"},
                          headers=host.headers), 201)["id"]  # fmt: skip
    ok(api.post(f"{API}/programs/{program}/participants", json={"company_id": partner.company_id},
                headers=host.headers), 201)  # fmt: skip
    ok(api.post(f"{API}/programs/{program}/participants/{partner.company_id}/accept",
                headers=partner.headers))  # fmt: skip
    ok(api.post(f"{API}/workflows", json={"template": "joint_solution", "program_id": program},
                headers=host.headers), 201)  # fmt: skip
    body = {"kind": "solution", "title": "Raced idea", "problem": "P", "target_customers": "T"}
    idea = ok(api.post(f"{API}/programs/{program}/ideas", json=body,
                       headers=partner.headers), 201)["id"]  # fmt: skip

    def triage_the_idea(client: httpx.Client, i: int) -> httpx.Response:
        if i % 2:
            return client.post(f"{API}/ideas/{idea}/accept", headers=host.headers)
        return client.post(f"{API}/ideas/{idea}/decline", json={"reason": f"no {i}"},
                           headers=host.headers)  # fmt: skip

    outcome = race(server, triage_the_idea)
    won = outcome.winner()
    for response in outcome.responses:
        if not response.is_success:
            assert response.status_code == 409, response.text
    final = ok(api.get(f"{API}/ideas/{idea}", headers=host.headers))
    solutions = ok(api.get(f"{API}/solutions", headers=host.headers))["items"]
    if won % 2:
        assert final["status"] == "accepted"
        assert [s["id"] for s in solutions] == [final["record_id"]]
    else:
        assert final["status"] == "declined"
        assert final["decline_reason"] == f"no {won}"
        assert solutions == []
