"""Partnerships: invite, accept, decline, revoke; who may do what; who sees what."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.fixtures.builders import Member, make_colleague, make_company, make_partnership
from tests.fixtures.smtp import Inbox, text_of
from tests.kit.assertions import assert_invalid, assert_problem, row_counts


def invite(client: TestClient, by: Member, to: Member, **extra: Any) -> Any:
    return client.post(
        "/api/v1/partnerships", json={"company_id": to.company_id, **extra}, headers=by.headers
    )


def act(client: TestClient, who: Member, partnership_id: str, verb: str) -> Any:
    return client.post(f"/api/v1/partnerships/{partnership_id}/{verb}", headers=who.headers)


def seen(client: TestClient, who: Member, partnership_id: str) -> Any:
    return client.get(f"/api/v1/partnerships/{partnership_id}", headers=who.headers)


def test_an_invitation_is_pending_and_both_sides_see_it(client: TestClient) -> None:
    a = make_company(client, "Acme")
    b = make_company(client, "Globex")

    response = invite(client, a, b, message="Let's co-sell in EMEA")

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "pending"
    assert created["direction"] == "outgoing"
    assert created["partner"]["id"] == b.company_id
    assert created["requester"]["id"] == a.company_id
    assert created["recipient"]["id"] == b.company_id
    assert created["message"] == "Let's co-sell in EMEA"
    assert created["responded_at"] is None
    theirs = seen(client, b, created["id"]).json()
    assert (theirs["status"], theirs["direction"]) == ("pending", "incoming")
    assert theirs["partner"] == {
        "id": a.company_id,
        "name": "Acme",
        "domain": created["requester"]["domain"],
    }
    assert [
        p["id"] for p in client.get("/api/v1/partnerships", headers=a.headers).json()["items"]
    ] == [created["id"]]
    assert [
        p["id"] for p in client.get("/api/v1/partnerships", headers=b.headers).json()["items"]
    ] == [created["id"]]


def test_the_invited_company_accepts(client: TestClient) -> None:
    a = make_company(client)
    b = make_company(client)
    partnership = make_partnership(client, a, b, accept=False)

    response = act(client, b, partnership, "accept")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "active"
    assert response.json()["responded_at"] is not None
    assert seen(client, a, partnership).json()["status"] == "active"


def test_the_invited_company_declines(client: TestClient) -> None:
    a = make_company(client)
    b = make_company(client)
    partnership = make_partnership(client, a, b, accept=False)

    response = act(client, b, partnership, "decline")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "declined"
    assert response.json()["ended_at"] is not None
    assert seen(client, a, partnership).json()["status"] == "declined"
    assert_problem(act(client, b, partnership, "accept"), 409, "partnership-not-pending")


@pytest.mark.parametrize("side", ["requester", "recipient"])
def test_either_side_revokes_an_active_partnership(client: TestClient, side: str) -> None:
    a = make_company(client)
    b = make_company(client)
    partnership = make_partnership(client, a, b)

    response = act(client, a if side == "requester" else b, partnership, "revoke")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "revoked"
    assert seen(client, b, partnership).json()["status"] == "revoked"
    assert_problem(act(client, a, partnership, "revoke"), 409, "partnership-not-revocable")


def test_the_inviter_withdraws_a_pending_invitation(client: TestClient) -> None:
    a = make_company(client)
    b = make_company(client)
    partnership = make_partnership(client, a, b, accept=False)

    response = act(client, a, partnership, "revoke")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "revoked"
    assert_problem(act(client, b, partnership, "accept"), 409, "partnership-not-pending")


def test_the_invited_company_declines_rather_than_revokes_a_pending_one(
    client: TestClient,
) -> None:
    a = make_company(client)
    b = make_company(client)
    partnership = make_partnership(client, a, b, accept=False)

    response = act(client, b, partnership, "revoke")

    assert_problem(response, 409, "partnership-not-revocable")
    assert seen(client, a, partnership).json()["status"] == "pending"


@pytest.mark.parametrize("verb", ["accept", "decline"])
def test_the_inviter_cannot_answer_its_own_invitation(client: TestClient, verb: str) -> None:
    a = make_company(client)
    b = make_company(client)
    partnership = make_partnership(client, a, b, accept=False)

    response = act(client, a, partnership, verb)

    assert_problem(response, 403, "not-the-invited-company")
    assert seen(client, b, partnership).json()["status"] == "pending"


def test_accepting_twice_is_a_conflict(client: TestClient) -> None:
    a = make_company(client)
    b = make_company(client)
    partnership = make_partnership(client, a, b)

    assert_problem(act(client, b, partnership, "accept"), 409, "partnership-not-pending")
    assert_problem(act(client, b, partnership, "decline"), 409, "partnership-not-pending")
    assert seen(client, a, partnership).json()["status"] == "active"


@pytest.mark.parametrize("accepted", [False, True])
def test_a_third_company_sees_nothing_and_can_do_nothing(
    client: TestClient, engine: Engine, accepted: bool
) -> None:
    a = make_company(client)
    b = make_company(client)
    c = make_company(client)
    partnership = make_partnership(client, a, b, accept=accepted)
    before = row_counts(engine)

    assert_problem(seen(client, c, partnership), 404, "not-found")
    for verb in ["accept", "decline", "revoke"]:
        assert_problem(act(client, c, partnership, verb), 404, "not-found")
    assert client.get("/api/v1/partnerships", headers=c.headers).json()["items"] == []
    assert row_counts(engine) == before
    expected = "active" if accepted else "pending"
    assert seen(client, a, partnership).json()["status"] == expected


def test_an_unknown_partnership_is_404_and_a_malformed_id_422(client: TestClient) -> None:
    a = make_company(client)

    assert_problem(seen(client, a, str(uuid.uuid4())), 404, "not-found")
    assert_problem(act(client, a, str(uuid.uuid4()), "accept"), 404, "not-found")
    assert_invalid(seen(client, a, "nope"), "path.partnership_id")


def test_a_company_cannot_partner_with_itself(client: TestClient, engine: Engine) -> None:
    a = make_company(client)
    before = row_counts(engine)

    response = invite(client, a, a)

    assert_invalid(response, "body.company_id")
    assert row_counts(engine) == before


def test_an_unknown_company_cannot_be_invited(client: TestClient, engine: Engine) -> None:
    a = make_company(client)
    before = row_counts(engine)

    unknown = client.post(
        "/api/v1/partnerships", json={"company_id": str(uuid.uuid4())}, headers=a.headers
    )
    malformed = client.post("/api/v1/partnerships", json={"company_id": "acme"}, headers=a.headers)

    assert_invalid(unknown, "body.company_id", slug="unknown-company")
    assert_invalid(malformed, "body.company_id")
    assert row_counts(engine) == before


@pytest.mark.parametrize(
    ("accepted", "again_from"),
    [(False, "requester"), (False, "recipient"), (True, "requester"), (True, "recipient")],
)
def test_a_second_open_partnership_for_the_same_pair_is_a_conflict(
    client: TestClient, engine: Engine, accepted: bool, again_from: str
) -> None:
    a = make_company(client)
    b = make_company(client)
    make_partnership(client, a, b, accept=accepted)
    before = row_counts(engine)

    response = invite(client, a, b) if again_from == "requester" else invite(client, b, a)

    assert_problem(response, 409, "partnership-exists")
    assert row_counts(engine) == before


@pytest.mark.parametrize("ending", ["decline", "revoke"])
def test_after_a_decline_or_revoke_a_new_invitation_is_allowed(
    client: TestClient, ending: str
) -> None:
    a = make_company(client)
    b = make_company(client)
    first = make_partnership(client, a, b, accept=ending == "revoke")
    assert act(client, b, first, ending).status_code == 200

    again = invite(client, b, a)

    assert again.status_code == 201, again.text
    assert again.json()["id"] != first
    statuses = {
        p["id"]: p["status"]
        for p in client.get("/api/v1/partnerships", headers=a.headers).json()["items"]
    }
    assert statuses == {
        first: "declined" if ending == "decline" else "revoked",
        again.json()["id"]: "pending",
    }


def test_a_member_can_neither_invite_nor_answer_nor_revoke(
    client: TestClient, inbox: Inbox, engine: Engine
) -> None:
    a = make_company(client)
    b = make_company(client)
    c = make_company(client)
    a_member = make_colleague(client, a, "member", inbox=inbox)
    b_member = make_colleague(client, b, "member", inbox=inbox)
    pending = make_partnership(client, a, b, accept=False)
    active = make_partnership(client, a, c)
    before = row_counts(engine)

    assert_problem(invite(client, a_member, c), 403, "forbidden")
    assert_problem(act(client, b_member, pending, "accept"), 403, "forbidden")
    assert_problem(act(client, b_member, pending, "decline"), 403, "forbidden")
    assert_problem(act(client, a_member, active, "revoke"), 403, "forbidden")
    assert row_counts(engine) == before
    # but a member sees the partnerships of its company
    assert seen(client, b_member, pending).json()["status"] == "pending"


def test_a_manager_can_invite_and_answer(client: TestClient, inbox: Inbox) -> None:
    a = make_company(client)
    b = make_company(client)
    a_manager = make_colleague(client, a, "manager", inbox=inbox)
    b_manager = make_colleague(client, b, "manager", inbox=inbox)

    created = invite(client, a_manager, b)
    accepted = act(client, b_manager, created.json()["id"], "accept")

    assert created.status_code == 201, created.text
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "active"


def test_the_invited_companys_admins_and_managers_get_an_email(
    client: TestClient, inbox: Inbox
) -> None:
    a = make_company(client, "Acme")
    b = make_company(client, "Globex")
    manager = make_colleague(client, b, "manager", inbox=inbox)
    member = make_colleague(client, b, "member", inbox=inbox)
    gone = make_colleague(client, b, "manager", inbox=inbox)
    client.patch(f"/api/v1/users/{gone.user_id}", json={"is_active": False}, headers=b.headers)
    inbox.clear()

    invite(client, a, b, message="Joint webinar in May?")

    for address in (b.email, manager.email):
        mail = inbox.wait_for(address)
        assert "Acme" in str(mail["Subject"])
        assert "Joint webinar in May?" in text_of(mail)
        assert "http://testserver/network" in text_of(mail)
    assert inbox.to(member.email) == []
    assert inbox.to(gone.email) == []
    assert inbox.to(a.email) == []


def test_a_refused_invitation_sends_no_email(client: TestClient, inbox: Inbox) -> None:
    a = make_company(client)
    b = make_company(client)
    make_partnership(client, a, b, accept=False)
    inbox.clear()

    assert invite(client, a, b).status_code == 409

    assert inbox.messages == []


def test_the_list_filters_by_status_and_pages(client: TestClient) -> None:
    hub = make_company(client, "Hub")
    spokes = [make_company(client, f"Spoke {n}") for n in range(5)]
    ids = [make_partnership(client, hub, spoke, accept=False) for spoke in spokes]
    act(client, spokes[0], ids[0], "accept")
    act(client, spokes[1], ids[1], "accept")
    act(client, spokes[2], ids[2], "decline")
    act(client, hub, ids[1], "revoke")

    def listed(**params: Any) -> list[str]:
        found: list[str] = []
        cursor = None
        while True:
            query = {**params, **({"cursor": cursor} if cursor else {})}
            page = client.get("/api/v1/partnerships", params=query, headers=hub.headers)
            assert page.status_code == 200, page.text
            found += [p["id"] for p in page.json()["items"]]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                return found

    assert listed(limit=2) == ids
    assert listed(status="pending", limit=1) == [ids[3], ids[4]]
    assert listed(status="active") == [ids[0]]
    assert listed(status="declined") == [ids[2]]
    assert listed(status="revoked") == [ids[1]]
    assert_invalid(
        client.get("/api/v1/partnerships", params={"status": "lost"}, headers=hub.headers),
        "query.status",
    )
    assert_invalid(
        client.get("/api/v1/partnerships", params={"cursor": "AAAA"}, headers=hub.headers),
        "query.cursor",
    )


def test_unknown_fields_and_overlong_messages_are_refused(
    client: TestClient, engine: Engine
) -> None:
    a = make_company(client)
    b = make_company(client)
    before = row_counts(engine)

    extra = invite(client, a, b, status="active")
    long_message = invite(client, a, b, message="m" * 2001)

    assert_invalid(extra, "body.status")
    assert_invalid(long_message, "body.message")
    assert row_counts(engine) == before
