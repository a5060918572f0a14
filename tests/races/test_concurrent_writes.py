"""Real races (DESIGN.md must 9): N requests released at once against uvicorn with 2 workers on
PostgreSQL, the app connected as a role row-level security applies to. For every versioned
resource and every state machine exactly one request wins; the others are 412 or 409, none is
a 5xx, and the stored state shows one change: the version moved once, the history holds one
entry, one move is pending, one decision applied.

Everything is created through the API, as a client would. One server serves the module.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.http_servers import serve
from coterie import migrate
from tests.fixtures.builders import PASSWORD, Member
from tests.fixtures.databases import app_role_url, fresh_database

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("races")]

N = 20
API = "/api/v1"
Send = Callable[[httpx.Client, int], httpx.Response]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """The app under uvicorn with 2 workers on a fresh, migrated PostgreSQL database."""
    with fresh_database("postgresql", Path()) as owner_url:
        migrate.upgrade(owner_url)
        with app_role_url(owner_url) as app_url, serve("app", owner_url, app_url, workers=2) as app:
            yield app.base_url


@pytest.fixture
def api(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=60.0) as client:
        yield client


@dataclass
class Outcome:
    """The answers of one race, in the order the requests were numbered."""

    responses: list[httpx.Response]

    @property
    def statuses(self) -> list[int]:
        return [r.status_code for r in self.responses]

    def winner(self) -> int:
        """The number of the one request that succeeded; fails unless there is exactly one
        and every other one was refused cleanly (412 or 409 problem+json, never a 5xx)."""
        won = [i for i, r in enumerate(self.responses) if r.is_success]
        detail = [(r.status_code, r.text[:200]) for r in self.responses if not r.is_success]
        assert len(won) == 1, (self.statuses, detail)
        for response in self.responses:
            if not response.is_success:
                assert response.status_code in (409, 412), (response.status_code, response.text)
                assert response.headers["content-type"].startswith("application/problem+json")
        return won[0]

    def summary(self, what: str) -> str:
        counts = {code: self.statuses.count(code) for code in sorted(set(self.statuses))}
        return f"RACE {what}: {sum(r.is_success for r in self.responses)} of {N} won; {counts}"


def race(base_url: str, send: Send, n: int = N) -> Outcome:
    """Send `send(client, i)` for i in 0..n-1 from n threads, each on a connection of its
    own already open, all released by one barrier."""
    barrier = threading.Barrier(n)

    def one(i: int) -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=60.0) as client:
            assert client.get("/healthz").status_code == 200  # the connection is open
            barrier.wait(timeout=60)
            return send(client, i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        outcome = Outcome(list(pool.map(one, range(n))))
    print(outcome.summary(send.__name__))  # the figures of the race, shown with -s
    return outcome


# -- building the data through the API ------------------------------------------------------


def company(api: httpx.Client, name: str) -> Member:
    tag = uuid.uuid4().hex[:8]
    response = api.post(
        f"{API}/signup",
        json={
            "company": {"name": f"{name} {tag}", "domain": f"{name.lower()}-{tag}.example"},
            "user": {"name": f"{name} admin", "email": f"admin@{name.lower()}-{tag}.example",
                     "password": PASSWORD},
        },
    )  # fmt: skip
    assert response.status_code == 201, response.text
    body = response.json()
    return Member(body["token"], body["company_id"], body["user_id"], "")


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def partners(api: httpx.Client, a: Member, b: Member) -> None:
    asked = ok(api.post(f"{API}/partnerships", json={"company_id": b.company_id},
                        headers=a.headers), 201)  # fmt: skip
    ok(api.post(f"{API}/partnerships/{asked['id']}/accept", headers=b.headers))


def opportunity(api: httpx.Client, who: Member, title: str, **fields: Any) -> str:
    body = {"title": title, "fields": fields}
    return str(ok(api.post(f"{API}/opportunities", json=body, headers=who.headers), 201)["id"])


def if_match(who: Member, version: int | str) -> dict[str, str]:
    return {**who.headers, "If-Match": f'"{str(version).strip(chr(34))}"'}


def etag(api: httpx.Client, who: Member, url: str) -> str:
    response = api.get(url, headers=who.headers)
    assert response.status_code == 200, response.text
    return str(response.headers["ETag"])


def changes_of(api: httpx.Client, who: Member, record_id: str, field: str) -> list[Any]:
    items = ok(api.get(f"{API}/opportunities/{record_id}/timeline?limit=200", headers=who.headers))
    return [i for i in items["items"] if i["type"] == "change" and i["change"]["field"] == field]


# -- the races --------------------------------------------------------------------------------


def test_record_core(api: httpx.Client, server: str) -> None:
    owner = company(api, "Core")
    record_id = opportunity(api, owner, "Original")
    url = f"{API}/opportunities/{record_id}"
    read = etag(api, owner, url)

    def patch_record_core(client: httpx.Client, i: int) -> httpx.Response:
        return client.patch(url, json={"title": f"Title {i}"}, headers=if_match(owner, read))

    won = race(server, patch_record_core).winner()
    stored = ok(api.get(url, headers=owner.headers))
    assert (stored["title"], stored["version"]) == (f"Title {won}", 2)
    assert len(changes_of(api, owner, record_id, "title")) == 1


def test_my_space(api: httpx.Client, server: str) -> None:
    owner = company(api, "Space")
    record_id = opportunity(api, owner, "Deal", amount=1)
    url = f"{API}/opportunities/{record_id}"
    mine = next(s for s in ok(api.get(url, headers=owner.headers))["spaces"] if s["is_mine"])

    def patch_my_space(client: httpx.Client, i: int) -> httpx.Response:
        body = {"fields": {"amount": 1000 + i}}
        return client.patch(
            f"{url}/spaces/mine", json=body, headers=if_match(owner, mine["version"])
        )

    won = race(server, patch_my_space).winner()
    after = next(s for s in ok(api.get(url, headers=owner.headers))["spaces"] if s["is_mine"])
    assert after["version"] == mine["version"] + 1
    assert after["fields"]["amount"]["value"] == f"{1000 + won}.00"
    assert len(changes_of(api, owner, record_id, "amount")) == 1


def test_template_first_save_and_update(api: httpx.Client, server: str) -> None:
    admin = company(api, "Template")
    url = f"{API}/templates/opportunity"
    assert etag(api, admin, url) == '"0"'

    def put_first_template(client: httpx.Client, i: int) -> httpx.Response:
        body = {"fields": [{"key": f"first_{i}", "type": "text", "visibility": "private"}]}
        return client.put(url, json=body, headers=if_match(admin, 0))

    first = race(server, put_first_template).winner()  # the INSERT's primary key decides

    def put_template(client: httpx.Client, i: int) -> httpx.Response:
        body = {"fields": [{"key": f"second_{i}", "type": "text", "visibility": "private"}]}
        return client.put(url, json=body, headers=if_match(admin, 1))

    second = race(server, put_template).winner()  # the conditional UPDATE decides
    stored = ok(api.get(url, headers=admin.headers))
    assert stored["version"] == 2
    assert [f["key"] for f in stored["fields"] if f["key"].startswith("second_")] == [
        f"second_{second}"
    ]
    assert [f["key"] for f in stored["retired"]] == [f"first_{first}"]


def test_rule(api: httpx.Client, server: str) -> None:
    admin = company(api, "Rules")
    rule = {
        "kind": "opportunity",
        "type": "visibility",
        "name": "Original",
        "condition": {"field": "amount", "op": "gte", "value": 1},
        "grantees": {"users": [admin.user_id]},
    }
    created = ok(api.post(f"{API}/rules", json=rule, headers=admin.headers), 201)
    url = f"{API}/rules/{created['id']}"

    def put_rule(client: httpx.Client, i: int) -> httpx.Response:
        return client.put(url, json={**rule, "name": f"Rule {i}"}, headers=if_match(admin, 1))

    won = race(server, put_rule).winner()
    stored = ok(api.get(url, headers=admin.headers))
    assert (stored["name"], stored["version"]) == (f"Rule {won}", 2)


def _workflow(api: httpx.Client, admin: Member, transitions: list[Any]) -> str:
    body = {
        "name": "Race track",
        "kind": "opportunity",
        "stages": [{"key": k, "name": k.upper()} for k in ("a", "b", "c")],
        "transitions": transitions,
    }
    return str(ok(api.post(f"{API}/workflows", json=body, headers=admin.headers), 201)["id"])


def _state(api: httpx.Client, who: Member, record_id: str, workflow_id: str) -> dict[str, Any]:
    states = ok(api.get(f"{API}/opportunities/{record_id}/workflows", headers=who.headers))
    return dict(next(s for s in states if s["workflow"]["id"] == workflow_id))


def _history(api: httpx.Client, who: Member, record_id: str, workflow_id: str) -> list[Any]:
    url = f"{API}/opportunities/{record_id}/workflows/{workflow_id}/history"
    return list(ok(api.get(url, headers=who.headers)))


def _moves_url(record_id: str, workflow_id: str) -> str:
    return f"{API}/opportunities/{record_id}/workflows/{workflow_id}/moves"


def test_workflow_move(api: httpx.Client, server: str) -> None:
    admin = company(api, "Moves")
    workflow_id = _workflow(api, admin, [])  # every move allowed: only the version decides
    record_id = opportunity(api, admin, "Deal", stage="a")
    assert _state(api, admin, record_id, workflow_id)["version"] == 0  # never moved

    def first_move(client: httpx.Client, i: int) -> httpx.Response:
        to = "b" if i % 2 == 0 else "c"  # two moves from a: a->b and a->c must not both happen
        return client.post(
            _moves_url(record_id, workflow_id), json={"to": to}, headers=if_match(admin, 0)
        )

    first = "b" if race(server, first_move).winner() % 2 == 0 else "c"  # the INSERT decides
    state = _state(api, admin, record_id, workflow_id)
    assert (state["version"], state["stage"]["key"]) == (1, first)
    others = [k for k in ("a", "b", "c") if k != first]

    def move_from_the_same_stage(client: httpx.Client, i: int) -> httpx.Response:
        return client.post(
            _moves_url(record_id, workflow_id),
            json={"to": others[i % 2]},
            headers=if_match(admin, 1),
        )

    second = others[race(server, move_from_the_same_stage).winner() % 2]  # the UPDATE decides
    state = _state(api, admin, record_id, workflow_id)
    assert (state["version"], state["stage"]["key"]) == (2, second)
    moves = _history(api, admin, record_id, workflow_id)
    assert [(m["from_stage"], m["to_stage"]) for m in moves] == [(first, second), ("a", first)]


def test_approval(api: httpx.Client, server: str) -> None:
    admin = company(api, "Approvals")
    host = [{"company": "host", "role": "manager"}]
    gate = [{"from": "a", "to": to, "approvals": host} for to in ("b", "c")]
    workflow_id = _workflow(api, admin, gate)
    record_id = opportunity(api, admin, "Gated deal")  # no stage given: it enters the first
    state = _state(api, admin, record_id, workflow_id)
    assert state["stage"]["key"] == "a"
    read = state["version"]

    def request_gated_move(client: httpx.Client, i: int) -> httpx.Response:
        to = "b" if i % 2 == 0 else "c"
        return client.post(
            _moves_url(record_id, workflow_id), json={"to": to}, headers=if_match(admin, read)
        )

    requested = race(server, request_gated_move).winner()
    pending = [m for m in _history(api, admin, record_id, workflow_id) if m["status"] == "pending"]
    assert len(pending) == 1  # never two pending moves of one record
    assert pending[0]["to_stage"] == ("b" if requested % 2 == 0 else "c")
    approval_id = pending[0]["approvals"][0]["id"]

    def decide_the_approval(client: httpx.Client, i: int) -> httpx.Response:
        verdict = "approve" if i % 2 == 0 else "reject"
        url = f"{API}/workflow-approvals/{approval_id}/{verdict}"
        return client.post(url, json={"comment": f"decision {i}"}, headers=admin.headers)

    decided = race(server, decide_the_approval).winner()
    moves = _history(api, admin, record_id, workflow_id)
    assert [m["to_stage"] for m in moves] == [pending[0]["to_stage"], "a"]
    [approval] = moves[0]["approvals"]
    approved = decided % 2 == 0
    assert approval["status"] == ("approved" if approved else "rejected")
    assert approval["comment"] == f"decision {decided}"
    assert moves[0]["status"] == ("done" if approved else "rejected")
    state = _state(api, admin, record_id, workflow_id)
    assert state["stage"]["key"] == (pending[0]["to_stage"] if approved else "a")
    assert state["pending_move"] is None


def test_registration_decision(api: httpx.Client, server: str) -> None:
    reseller, vendor = company(api, "Reseller"), company(api, "Vendor")
    partners(api, reseller, vendor)
    record_id = opportunity(api, reseller, "Registered deal")
    draft = ok(api.post(f"{API}/opportunities/{record_id}/registrations",
                        json={"registered_to_company_id": vendor.company_id},
                        headers=reseller.headers), 201)  # fmt: skip
    url = f"{API}/registrations/{draft['id']}"
    ok(api.post(f"{url}/submit", headers=if_match(reseller, draft["version"])))
    accept = f"{API}/opportunities/{record_id}/participants/{vendor.company_id}/accept"
    ok(api.post(accept, headers=vendor.headers))
    read = etag(api, vendor, url)

    def decide_the_registration(client: httpx.Client, i: int) -> httpx.Response:
        if i % 2 == 0:
            return client.post(f"{url}/approve", json={"reason": f"yes {i}"},
                               headers=if_match(vendor, read))  # fmt: skip
        return client.post(f"{url}/reject", json={"reason": f"no {i}"},
                           headers=if_match(vendor, read))  # fmt: skip

    won = race(server, decide_the_registration).winner()
    stored = ok(api.get(url, headers=reseller.headers))
    assert stored["status"] == ("approved" if won % 2 == 0 else "rejected")
    assert stored["reason"] == (f"yes {won}" if won % 2 == 0 else f"no {won}")
    assert f'"{stored["version"]}"' == f'"{int(read.strip(chr(34))) + 1}"'


def test_lead_nomination_answer(api: httpx.Client, server: str) -> None:
    nominator, receiver = company(api, "Nominator"), company(api, "Receiver")
    partners(api, nominator, receiver)
    lead = ok(api.post(f"{API}/leads", json={"title": "Hot lead", "fields": {}},
                       headers=nominator.headers), 201)["id"]  # fmt: skip
    nominated = api.post(
        f"{API}/leads/{lead}/nominate",
        json={"company_ids": [receiver.company_id]},
        headers=nominator.headers,
    )
    assert nominated.is_success, nominated.text

    def answer_the_nomination(client: httpx.Client, i: int) -> httpx.Response:
        if i % 2 == 0:
            body = {"owner_user_id": receiver.user_id}
            return client.post(f"{API}/leads/{lead}/accept", json=body, headers=receiver.headers)
        body = {"reason_code": "no_capacity"}
        return client.post(f"{API}/leads/{lead}/reject", json=body, headers=receiver.headers)

    won = race(server, answer_the_nomination).winner()
    [decision] = ok(api.get(f"{API}/leads/{lead}/decisions", headers=nominator.headers))
    assert decision["status"] == ("accepted" if won % 2 == 0 else "rejected")


def test_saved_report(api: httpx.Client, server: str) -> None:
    owner = company(api, "Reports")
    body = {
        "name": "Original",
        "definition": {"kind": "opportunity", "measures": [{"op": "count"}]},
    }
    created = ok(api.post(f"{API}/reports", json=body, headers=owner.headers), 201)
    url = f"{API}/reports/{created['id']}"

    def put_saved_report(client: httpx.Client, i: int) -> httpx.Response:
        return client.put(url, json={**body, "name": f"Report {i}"}, headers=if_match(owner, 1))

    won = race(server, put_saved_report).winner()
    stored = ok(api.get(url, headers=owner.headers))
    assert (stored["name"], stored["version"]) == (f"Report {won}", 2)


def test_dashboard(api: httpx.Client, server: str) -> None:
    owner = company(api, "Dashboards")
    report = {"name": "Count", "definition": {"kind": "opportunity", "measures": [{"op": "count"}]}}
    report_id = ok(api.post(f"{API}/reports", json=report, headers=owner.headers), 201)["id"]
    body = {"name": "Original", "panels": [{"report_id": report_id}]}
    created = ok(api.post(f"{API}/dashboards", json=body, headers=owner.headers), 201)
    url = f"{API}/dashboards/{created['id']}"

    def put_dashboard(client: httpx.Client, i: int) -> httpx.Response:
        return client.put(url, json={**body, "name": f"Board {i}"}, headers=if_match(owner, 1))

    won = race(server, put_dashboard).winner()
    stored = ok(api.get(url, headers=owner.headers))
    assert (stored["name"], stored["version"]) == (f"Board {won}", 2)


def test_goal(api: httpx.Client, server: str) -> None:
    owner = company(api, "Goals")
    plan_id = ok(api.post(f"{API}/plans", json={"title": "Plan", "fields": {}},
                          headers=owner.headers), 201)["id"]  # fmt: skip
    goal = {"metric": "opportunity_count", "target": 5}
    [created] = ok(api.post(f"{API}/plans/{plan_id}/goals", json=goal, headers=owner.headers),
                   201)["items"]  # fmt: skip
    url = f"{API}/plans/{plan_id}/goals/{created['id']}"

    def patch_goal(client: httpx.Client, i: int) -> httpx.Response:
        return client.patch(url, json={"target": 100 + i}, headers=if_match(owner, 1))

    won = race(server, patch_goal).winner()
    stored = ok(api.get(url, headers=owner.headers))
    assert (stored["target"], stored["version"]) == (f"{100 + won}.00", 2)


def test_partnership_answer(api: httpx.Client, server: str) -> None:
    inviter, invited = company(api, "Inviter"), company(api, "Invited")
    asked = ok(
        api.post(f"{API}/partnerships", json={"company_id": invited.company_id},
                 headers=inviter.headers),
        201,
    )  # fmt: skip
    url = f"{API}/partnerships/{asked['id']}"

    def answer_the_invitation(client: httpx.Client, i: int) -> httpx.Response:
        verdict = "accept" if i % 2 == 0 else "decline"
        return client.post(f"{url}/{verdict}", headers=invited.headers)

    won = race(server, answer_the_invitation).winner()
    stored = ok(api.get(url, headers=inviter.headers))
    assert stored["status"] == ("active" if won % 2 == 0 else "declined")


def test_a_move_and_a_stage_edit_through_the_space(api: httpx.Client, server: str) -> None:
    """Both change the stage, the space and the state: whichever lands first makes the other
    stale, and they take their locks in one order (the space, then the state), so no deadlock
    turns into a 5xx."""
    admin = company(api, "Stages")
    workflow_id = _workflow(api, admin, [])
    record_id = opportunity(api, admin, "Deal", stage="a")
    url = f"{API}/opportunities/{record_id}"
    state = _state(api, admin, record_id, workflow_id)["version"]
    space = next(s for s in ok(api.get(url, headers=admin.headers))["spaces"] if s["is_mine"])

    def move_or_edit_the_stage(client: httpx.Client, i: int) -> httpx.Response:
        if i % 2 == 0:
            move = _moves_url(record_id, workflow_id)
            return client.post(move, json={"to": "b"}, headers=if_match(admin, state))
        body = {"fields": {"stage": "c"}}
        return client.patch(
            f"{url}/spaces/mine", json=body, headers=if_match(admin, space["version"])
        )

    won = race(server, move_or_edit_the_stage).winner()
    after = _state(api, admin, record_id, workflow_id)
    assert after["stage"]["key"] == ("b" if won % 2 == 0 else "c")
    assert after["version"] == state + 1
    moves = _history(api, admin, record_id, workflow_id)
    assert [(m["from_stage"], m["to_stage"]) for m in moves] == [("a", after["stage"]["key"])]


def test_a_withdrawal_racing_the_decisions(api: httpx.Client, server: str) -> None:
    admin = company(api, "Withdrawals")
    host = [{"company": "host", "role": "manager"}]
    workflow_id = _workflow(api, admin, [{"from": "a", "to": "b", "approvals": host}])
    record_id = opportunity(api, admin, "Deal", stage="a")
    read = _state(api, admin, record_id, workflow_id)["version"]
    asked = api.post(
        _moves_url(record_id, workflow_id), json={"to": "b"}, headers=if_match(admin, read)
    )
    move = ok(asked, 201)["move"]
    cancel = f"{_moves_url(record_id, workflow_id)}/{move['id']}/cancel"
    approve = f"{API}/workflow-approvals/{move['approvals'][0]['id']}/approve"

    def withdraw_or_approve(client: httpx.Client, i: int) -> httpx.Response:
        return client.post(cancel if i % 2 == 0 else approve, headers=admin.headers)

    won = race(server, withdraw_or_approve).winner()
    [stored] = _history(api, admin, record_id, workflow_id)
    assert stored["status"] == ("canceled" if won % 2 == 0 else "done")
    assert stored["approvals"][0]["status"] == ("canceled" if won % 2 == 0 else "approved")
    assert _state(api, admin, record_id, workflow_id)["stage"]["key"] == (
        "a" if won % 2 == 0 else "b"
    )


def _shared_deal(api: httpx.Client) -> tuple[Member, Member, Member, str]:
    """Owner's opportunity with Partner active on it; Third partners with both, not on it."""
    owner, partner, third = company(api, "Owner"), company(api, "Partner"), company(api, "Third")
    for a, b in ((owner, partner), (owner, third), (partner, third)):
        partners(api, a, b)
    deal = opportunity(api, owner, "Consent race")
    base = f"{API}/opportunities/{deal}/participants"
    ok(api.post(base, json={"company_id": partner.company_id}, headers=owner.headers), 201)
    ok(api.post(f"{base}/{partner.company_id}/accept", headers=partner.headers))
    return owner, partner, third, deal


def test_record_invitation_answer(api: httpx.Client, server: str) -> None:
    owner, _partner, third, deal = _shared_deal(api)
    base = f"{API}/opportunities/{deal}/participants"
    ok(api.post(base, json={"company_id": third.company_id}, headers=owner.headers), 201)

    def answer_the_record_invitation(client: httpx.Client, i: int) -> httpx.Response:
        verdict = "accept" if i % 2 == 0 else "decline"
        return client.post(f"{base}/{third.company_id}/{verdict}", headers=third.headers)

    won = race(server, answer_the_record_invitation).winner()
    people = ok(api.get(f"{API}/opportunities/{deal}", headers=owner.headers))["participants"]
    status = next(p["status"] for p in people if p["company_id"] == third.company_id)
    assert status == ("active" if won % 2 == 0 else "declined")
    joined = [c for c in changes_of_participants(api, owner, deal, third) if c == "active"]
    assert len(joined) == (1 if won % 2 == 0 else 0)


def changes_of_participants(
    api: httpx.Client, who: Member, record_id: str, company: Member
) -> list[Any]:
    items = ok(api.get(f"{API}/opportunities/{record_id}/timeline?limit=200", headers=who.headers))
    return [
        i["change"]["new"]
        for i in items["items"]
        if i["type"] == "change"
        and i["change"]["scope"] == "participant"
        and i["change"]["company_id"] == company.company_id
    ]


def test_proposal_and_its_decision(api: httpx.Client, server: str) -> None:
    owner, partner, third, deal = _shared_deal(api)
    url = f"{API}/opportunities/{deal}"

    def propose_the_same_company(client: httpx.Client, i: int) -> httpx.Response:
        body = {"company_id": third.company_id}
        return client.post(f"{url}/participants", json=body, headers=partner.headers)

    proposed = race(server, propose_the_same_company)
    assert proposed.statuses.count(202) == 1, proposed.statuses
    assert set(proposed.statuses) == {202, 409}, proposed.statuses
    [pending] = ok(api.get(f"{API}/record-proposals", headers=owner.headers))

    def decide_the_proposal(client: httpx.Client, i: int) -> httpx.Response:
        verdict = "accept" if i % 2 == 0 else "decline"
        return client.post(f"{url}/proposals/{pending['id']}/{verdict}", headers=owner.headers)

    won = race(server, decide_the_proposal).winner()
    [decided] = ok(api.get(f"{url}/proposals", headers=partner.headers))
    assert decided["status"] == ("accepted" if won % 2 == 0 else "declined")
    invited = ok(api.get(f"{API}/record-invitations", headers=third.headers))
    assert [i["record_id"] for i in invited] == ([deal] if won % 2 == 0 else [])
