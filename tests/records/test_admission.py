"""The owner decides who joins (DESIGN must 8): a participant's invitation, auto-share rule or
deal registration only proposes a company; the owner (or a company it delegated the right to)
accepts or declines; the proposed company sees nothing until it is admitted and accepts; every
participant hears when a company joins."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.fixtures.activity import notifications_of
from tests.fixtures.builders import Member, make_colleague, make_company, make_partnership
from tests.fixtures.records import OPPS, accept, create_record, fill_space, put_template
from tests.fixtures.smtp import Inbox
from tests.kit.assertions import assert_problem

CANARY_TITLE = "Owner-only deal CANARY-7d1"
CANARY_AMOUNT = 424242.42


@pytest.fixture
def world(client: TestClient) -> dict[str, Any]:
    """A owns an opportunity shared with B (A shares its amount with participants); B partners
    with C, D and E; A partners with C only. C was on the deal and A removed it."""
    a, b, c, d, e = (make_company(client, n) for n in ("Ayla", "Bosk", "Cirro", "Dunmore", "Eske"))
    for other in (c, d, e):
        make_partnership(client, b, other)
    make_partnership(client, a, b)
    make_partnership(client, a, c)
    put_template(client, a, {"key": "amount", "visibility": "participants"})
    deal = create_record(client, a, CANARY_TITLE, amount=CANARY_AMOUNT)
    for partner in (b, c):
        _invite(client, a, deal, partner, expect=201)
        accept(client, partner, deal)
    assert (
        client.delete(f"{OPPS}/{deal}/participants/{c.company_id}", headers=a.headers).status_code
        == 204
    )
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "deal": deal}


def _invite(
    client: TestClient, who: Member, deal: str, company: Member, *, expect: int, note: str = ""
) -> dict[str, Any]:
    response = client.post(
        f"{OPPS}/{deal}/participants",
        json={"company_id": company.company_id, "note": note},
        headers=who.headers,
    )
    assert response.status_code == expect, response.text
    body: dict[str, Any] = response.json()
    return body


def _sees_nothing(client: TestClient, who: Member, deal: str) -> None:
    """`who` cannot read the deal, is not invited to it, and no response names it."""
    assert client.get(f"{OPPS}/{deal}", headers=who.headers).status_code == 404
    inbox = client.get("/api/v1/record-invitations", headers=who.headers)
    assert inbox.status_code == 200
    assert deal not in {i["record_id"] for i in inbox.json()}
    listed = client.get(OPPS, headers=who.headers)
    assert CANARY_TITLE not in listed.text
    assert "424242" not in listed.text
    assert client.get(f"{OPPS}/{deal}/proposals", headers=who.headers).status_code == 404
    assert CANARY_TITLE not in client.get("/api/v1/notifications", headers=who.headers).text


def _pending(client: TestClient, owner: Member) -> list[dict[str, Any]]:
    response = client.get("/api/v1/record-proposals", headers=owner.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()
    return items


def test_a_participant_only_proposes_and_the_proposed_company_sees_nothing(
    client: TestClient, world: dict[str, Any]
) -> None:
    a, b, d, deal = world["a"], world["b"], world["d"], world["deal"]
    proposal = _invite(client, b, deal, d, expect=202, note="They run the customer's data centre")
    assert proposal["status"] == "pending"
    assert proposal["company_id"] == d.company_id
    assert proposal["proposed_by_company_id"] == b.company_id
    _sees_nothing(client, d, deal)
    # the record's participants did not change
    participants = client.get(f"{OPPS}/{deal}", headers=a.headers).json()["participants"]
    assert d.company_id not in {p["company_id"] for p in participants}
    # A sees the proposal, with the note, on the record and in its inbox
    [waiting] = _pending(client, a)
    assert (waiting["id"], waiting["note"]) == (
        proposal["id"],
        "They run the customer's data centre",
    )
    assert waiting["record_title"] == CANARY_TITLE
    # proposing again while it waits is a conflict; B cannot decide its own proposal
    _invite(client, b, deal, d, expect=409)
    refused = client.post(f"{OPPS}/{deal}/proposals/{proposal['id']}/accept", headers=b.headers)
    assert_problem(refused, 403, "forbidden")
    _sees_nothing(client, d, deal)


def test_the_owner_accepts_a_proposal_then_the_company_joins_and_everyone_hears(
    client: TestClient, world: dict[str, Any], inbox: Inbox
) -> None:
    a, b, d, deal = world["a"], world["b"], world["d"], world["deal"]
    b_manager = make_colleague(client, b, "manager", inbox=inbox)
    b_member = make_colleague(client, b, "member", inbox=inbox)
    proposal = _invite(client, b, deal, d, expect=202)
    decided = client.post(f"{OPPS}/{deal}/proposals/{proposal['id']}/accept", headers=a.headers)
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "accepted"
    assert _pending(client, a) == []
    # D is invited by A now: it sees only the invitation until it accepts
    [invitation] = client.get("/api/v1/record-invitations", headers=d.headers).json()
    assert invitation["invited_by_company_id"] == a.company_id
    assert client.get(f"{OPPS}/{deal}", headers=d.headers).status_code == 404
    accept(client, d, deal)
    seen = client.get(f"{OPPS}/{deal}", headers=d.headers)
    assert seen.status_code == 200
    assert seen.json()["title"] == CANARY_TITLE
    # B hears the decision; A's admin, who invited D, hears that D accepted; B's admins and
    # managers hear that D joined, B's member not
    assert any(n["event"] == "proposal_decided" for n in notifications_of(client, b))
    answered = [n for n in notifications_of(client, a) if "(Dunmore)" in n["text"]]
    assert [n["event"] for n in answered] == ["invitation_accepted"]
    assert answered[0]["record_id"] == deal
    for who in (b, b_manager):
        joined = [
            n
            for n in notifications_of(client, who)
            if n["event"] == "joined" and "(Dunmore)" in n["text"]
        ]
        assert len(joined) == 1, who
        assert "joined" in joined[0]["text"]
        assert joined[0]["record_id"] == deal
    assert not [n for n in notifications_of(client, b_member) if n["event"] == "joined"]
    # the timeline tells every participant too
    timeline = client.get(f"{OPPS}/{deal}/timeline", headers=b.headers).text
    assert "Dunmore" in timeline


def test_the_owner_declines_and_the_proposer_may_withdraw(
    client: TestClient, world: dict[str, Any]
) -> None:
    a, b, d, e, deal = world["a"], world["b"], world["d"], world["e"], world["deal"]
    first = _invite(client, b, deal, d, expect=202)
    declined = client.post(
        f"{OPPS}/{deal}/proposals/{first['id']}/decline",
        json={"reason": "We keep this one between us"},
        headers=a.headers,
    )
    assert declined.status_code == 200, declined.text
    assert declined.json()["status"] == "declined"
    mine = client.get(f"{OPPS}/{deal}/proposals", headers=b.headers).json()
    assert [(p["status"], p["reason"]) for p in mine] == [
        ("declined", "We keep this one between us")
    ]
    _sees_nothing(client, d, deal)
    # a decided proposal is decided for good: a second decision is a conflict
    again = client.post(f"{OPPS}/{deal}/proposals/{first['id']}/accept", headers=a.headers)
    assert_problem(again, 409, "proposal-decided")
    second = _invite(client, b, deal, e, expect=202)
    assert (
        client.delete(f"{OPPS}/{deal}/proposals/{second['id']}", headers=b.headers).status_code
        == 204
    )
    assert _pending(client, a) == []
    withdrawn = client.post(f"{OPPS}/{deal}/proposals/{second['id']}/accept", headers=a.headers)
    assert_problem(withdrawn, 409, "proposal-decided")
    _sees_nothing(client, e, deal)


def test_a_company_the_owner_removed_cannot_be_brought_back_by_a_participant(
    client: TestClient, world: dict[str, Any]
) -> None:
    b, c, deal = world["b"], world["c"], world["deal"]
    _invite(client, b, deal, c, expect=202)
    assert client.get(f"{OPPS}/{deal}", headers=c.headers).status_code == 404
    assert client.get("/api/v1/record-invitations", headers=c.headers).json() == []
    # C cannot accept an invitation it does not have
    refused = client.post(f"{OPPS}/{deal}/participants/{c.company_id}/accept", headers=c.headers)
    assert_problem(refused, 409, "not-invited")
    assert client.get(f"{OPPS}/{deal}", headers=c.headers).status_code == 404


def test_a_participants_auto_share_rule_proposes_and_never_repeats_a_declined_proposal(
    client: TestClient, world: dict[str, Any]
) -> None:
    a, b, c, e, deal = world["a"], world["b"], world["c"], world["e"], world["deal"]
    fill_space(client, b, deal, amount=900)
    rule = client.post(
        "/api/v1/rules",
        json={
            "kind": "opportunity",
            "name": "Every deal to C and E",
            "type": "auto_share",
            "condition": {"field": "amount", "op": "gte", "value": 1},
            "grantees": {"companies": [c.company_id, e.company_id]},
        },
        headers=b.headers,
    )
    assert rule.status_code == 201, rule.text
    for outsider in (c, e):
        _sees_nothing(client, outsider, deal)
    waiting = {p["company_id"]: p for p in _pending(client, a)}
    assert set(waiting) == {c.company_id, e.company_id}
    assert {p["source"] for p in waiting.values()} == {"rule"}
    client.post(
        f"{OPPS}/{deal}/proposals/{waiting[e.company_id]['id']}/decline", headers=a.headers
    ).raise_for_status()
    # B writes its space: the rule runs again, and does not propose E again
    fill_space(client, b, deal, amount=950)
    assert {p["company_id"] for p in _pending(client, a)} == {c.company_id}
    # B's own record: its rule invites directly (B owns it)
    own = create_record(client, b, "Bosk's own deal", amount=5)
    invited = client.get("/api/v1/record-invitations", headers=e.headers).json()
    assert [i["record_id"] for i in invited] == [own]
    # the rule stops matching A's deal: its pending proposal is withdrawn
    fill_space(client, b, deal, amount=0)
    assert _pending(client, a) == []
    _sees_nothing(client, c, deal)


def test_a_registration_to_a_company_not_on_the_deal_waits_for_the_owner(
    client: TestClient, world: dict[str, Any]
) -> None:
    a, b, c, deal = world["a"], world["b"], world["c"], world["deal"]
    drafted = client.post(
        f"{OPPS}/{deal}/registrations",
        json={"registered_to_company_id": c.company_id, "notes": "Ours"},
        headers=b.headers,
    )
    assert drafted.status_code == 201, drafted.text
    registration = drafted.json()
    submitted = client.post(
        f"/api/v1/registrations/{registration['id']}/submit",
        headers={**b.headers, "If-Match": str(registration["version"])},
    )
    assert submitted.status_code == 200, submitted.text
    _sees_nothing(client, c, deal)
    assert client.get("/api/v1/registrations", headers=c.headers).json()["items"] == []
    [waiting] = _pending(client, a)
    assert (waiting["company_id"], waiting["source"]) == (c.company_id, "registration")
    client.post(
        f"{OPPS}/{deal}/proposals/{waiting['id']}/accept", headers=a.headers
    ).raise_for_status()
    accept(client, c, deal)
    [seen] = client.get("/api/v1/registrations", headers=c.headers).json()["items"]
    assert (seen["id"], seen["status"]) == (registration["id"], "submitted")


def test_the_owner_may_delegate_the_right_to_admit_and_take_it_back(
    client: TestClient, world: dict[str, Any], inbox: Inbox
) -> None:
    a, b, d, e, deal = world["a"], world["b"], world["d"], world["e"], world["deal"]
    url = f"{OPPS}/{deal}/participants/{b.company_id}"
    a_member = make_colleague(client, a, "member", inbox=inbox)
    assert_problem(
        client.patch(url, json={"can_admit": True}, headers=a_member.headers), 403, "forbidden"
    )
    assert_problem(
        client.patch(
            f"{OPPS}/{deal}/participants/{a.company_id}",
            json={"can_admit": True},
            headers=b.headers,
        ),
        403,
        "forbidden",
    )
    granted = client.patch(url, json={"can_admit": True}, headers=a.headers)
    assert granted.status_code == 200, granted.text
    assert next(
        p["can_admit"] for p in granted.json()["participants"] if p["company_id"] == b.company_id
    )
    # B admits D directly now
    _invite(client, b, deal, d, expect=201)
    assert [
        i["record_id"] for i in client.get("/api/v1/record-invitations", headers=d.headers).json()
    ] == [deal]
    # ...until A takes the right back: B only proposes again
    client.patch(url, json={"can_admit": False}, headers=a.headers).raise_for_status()
    _invite(client, b, deal, e, expect=202)
    _sees_nothing(client, e, deal)
    # a delegate cannot pass the right on, nor remove companies
    d_joins = client.post(f"{OPPS}/{deal}/participants/{d.company_id}/accept", headers=d.headers)
    assert d_joins.status_code == 200
    client.patch(url, json={"can_admit": True}, headers=a.headers).raise_for_status()
    assert_problem(
        client.patch(
            f"{OPPS}/{deal}/participants/{d.company_id}",
            json={"can_admit": True},
            headers=b.headers,
        ),
        403,
        "forbidden",
    )
    assert_problem(
        client.delete(f"{OPPS}/{deal}/participants/{d.company_id}", headers=b.headers),
        403,
        "forbidden",
    )


def test_only_the_owner_nominates_a_lead_to_partners(
    client: TestClient, world: dict[str, Any]
) -> None:
    a, b, d = world["a"], world["b"], world["d"]
    lead = client.post("/api/v1/leads", json={"title": "Shared lead"}, headers=a.headers).json()
    base = f"/api/v1/leads/{lead['id']}/participants"
    client.post(base, json={"company_id": b.company_id}, headers=a.headers).raise_for_status()
    client.post(f"{base}/{b.company_id}/accept", headers=b.headers).raise_for_status()
    refused = client.post(
        f"/api/v1/leads/{lead['id']}/nominate",
        json={"company_ids": [d.company_id], "note": ""},
        headers=b.headers,
    )
    assert_problem(refused, 403, "forbidden")
    assert client.get("/api/v1/record-invitations", headers=d.headers).json() == []
