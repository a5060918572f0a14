"""An idea from proposal to triage through the API: a field seller proposes a joint solution to
a program, a colleague and a partner endorse it, the host accepts it into the program's
workflow (a solution owned by the host, in the first stage, the wanted partners and the
proposer's company invited) or declines it with a reason the proposer is told."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.fixtures.builders import make_colleague
from tests.fixtures.cosell import API
from tests.fixtures.ideas import idea_as, propose, try_propose, world
from tests.fixtures.smtp import Inbox
from tests.fixtures.workflows import states


def test_propose_endorse_accept(client: TestClient, inbox: Inbox) -> None:
    w = world(client, inbox)
    idea = propose(client, w.a_seller, w.program_id, partner_company_ids=[w.b.company_id])
    assert idea["status"] == "open"
    assert idea["proposer"]["user_id"] == w.a_seller.user_id
    assert idea["proposer_company"]["company_id"] == w.a.company_id
    assert [p["company_id"] for p in idea["partners"]] == [w.b.company_id]
    assert idea["expected_pipeline"] == {"value": "250000.00", "currency": "USD"}
    assert idea["can_triage"] is False

    for endorser in (w.a, w.b, w.b):  # a colleague, a partner, the partner again (no change)
        endorsed = client.post(f"{API}/ideas/{idea['id']}/endorse", headers=endorser.headers)
        assert endorsed.status_code == 200, endorsed.text
    seen = idea_as(client, w.b, idea["id"]).json()
    assert seen["endorsements"] == 2
    assert {e["company_id"] for e in seen["endorsers"]} == {w.a.company_id, w.b.company_id}
    assert seen["endorsed_by_me"] is True
    withdrawn = client.delete(f"{API}/ideas/{idea['id']}/endorse", headers=w.b.headers).json()
    assert withdrawn["endorsements"] == 1
    assert withdrawn["endorsed_by_me"] is False
    client.post(f"{API}/ideas/{idea['id']}/endorse", headers=w.b.headers)

    # only the host's admins and managers triage
    assert client.post(f"{API}/ideas/{idea['id']}/accept", headers=w.a.headers).status_code == 403
    refused = client.post(f"{API}/ideas/{idea['id']}/accept", headers=w.host_member.headers)
    assert refused.status_code == 403
    assert idea_as(client, w.host, idea["id"]).json()["can_triage"] is True
    accepted = client.post(f"{API}/ideas/{idea['id']}/accept", headers=w.host.headers)
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert body["status"] == "accepted"
    solution_id = body["record_id"]
    assert solution_id is not None

    solution = client.get(f"{API}/solutions/{solution_id}", headers=w.host.headers).json()
    assert solution["title"] == "Landing zone security pack"
    assert solution["owner_company_id"] == w.host.company_id
    assert solution["joint_stage"] == "business_review"
    status_of = {p["company_id"]: p["status"] for p in solution["participants"]}
    assert status_of == {
        w.host.company_id: "active",
        w.a.company_id: "invited",
        w.b.company_id: "invited",
    }
    state = states(client, w.host, "solution", solution_id)[w.workflow["id"]]
    assert state["stage"]["key"] == "business_review"

    # triaged: a second decision and further endorsements are refused
    again = client.post(f"{API}/ideas/{idea['id']}/decline", json={"reason": "x"},
                        headers=w.host.headers)  # fmt: skip
    assert again.status_code == 409
    assert client.post(f"{API}/ideas/{idea['id']}/endorse", headers=w.a.headers).status_code == 409

    # the proposer is told, and sees the record once its company accepted the invitation
    told = client.get(f"{API}/notifications", headers=w.a_seller.headers).json()["items"]
    assert any(n["event"] == "idea_accepted" for n in told)
    assert idea_as(client, w.a_seller, idea["id"]).json()["record_id"] is None
    joined = client.post(
        f"{API}/solutions/{solution_id}/participants/{w.a.company_id}/accept", headers=w.a.headers
    )
    assert joined.status_code == 200, joined.text
    assert idea_as(client, w.a_seller, idea["id"]).json()["record_id"] == solution_id


def test_accept_without_a_workflow_leaves_the_record_unstaged(
    client: TestClient, inbox: Inbox
) -> None:
    w = world(client, inbox, with_workflow=False)
    idea = propose(client, w.host_member, w.program_id, kind="campaign")
    body = client.post(f"{API}/ideas/{idea['id']}/accept", headers=w.host.headers).json()
    campaign = client.get(f"{API}/campaigns/{body['record_id']}", headers=w.host.headers).json()
    assert campaign["joint_stage"] is None
    assert [p["company_id"] for p in campaign["participants"]] == [w.host.company_id]


def test_decline_needs_a_reason_and_tells_the_proposer(client: TestClient, inbox: Inbox) -> None:
    w = world(client, inbox)
    idea = propose(client, w.a_seller, w.program_id, title="Retail analytics bundle")
    url = f"{API}/ideas/{idea['id']}/decline"
    for body in ({}, {"reason": "   "}):
        missing = client.post(url, json=body, headers=w.host.headers)
        assert missing.status_code == 422
        assert "body.reason" in missing.text
    assert idea_as(client, w.host, idea["id"]).json()["status"] == "open"
    declined = client.post(url, json={"reason": "Overlaps the Q3 retail plan"},
                           headers=w.host.headers)  # fmt: skip
    assert declined.status_code == 200, declined.text
    assert declined.json()["decline_reason"] == "Overlaps the Q3 retail plan"
    assert (
        client.post(f"{API}/ideas/{idea['id']}/accept", headers=w.host.headers).status_code == 409
    )

    told = client.get(f"{API}/notifications", headers=w.a_seller.headers).json()["items"]
    [notice] = [n for n in told if n["event"] == "idea_declined"]
    assert "declined your idea" in notice["text"]
    assert "Overlaps the Q3 retail plan" in notice["excerpt"]
    assert notice["url"] == f"/programs/{w.program_id}"
    # partner B sees the idea declined, not the host's reason
    assert idea_as(client, w.b, idea["id"]).json()["decline_reason"] is None
    assert idea_as(client, w.b, idea["id"]).json()["status"] == "declined"


def test_bad_proposals(client: TestClient, inbox: Inbox) -> None:
    w = world(client, inbox)
    assert try_propose(client, w.outsider, w.program_id).status_code == 404
    unknown = "00000000-0000-7000-8000-000000000000"
    assert try_propose(client, w.a, unknown).status_code == 404
    missing = client.post(f"{API}/programs/{w.program_id}/ideas", json={"kind": "solution"},
                          headers=w.a.headers)  # fmt: skip
    assert missing.status_code == 422
    paths = {e["path"] for e in missing.json()["errors"]}
    assert {"body.title", "body.problem", "body.target_customers"} <= paths
    for overrides, path in (
        ({"kind": "opportunity"}, "body.kind"),
        ({"title": " "}, "body.title"),
        ({"expected_pipeline": "-5"}, "body.expected_pipeline"),
        ({"partner_company_ids": [w.outsider.company_id]}, "body.partner_company_ids.0"),
        ({"partner_company_ids": [w.a.company_id]}, "body.partner_company_ids.0"),
    ):
        response = try_propose(client, w.a, w.program_id, **overrides)
        assert response.status_code == 422, (overrides, response.text)
        assert path in {e["path"] for e in response.json()["errors"]}, response.text
    listed = client.get(f"{API}/programs/{w.program_id}/ideas", headers=w.host.headers).json()
    assert listed["items"] == []
    colleague = make_colleague(client, w.outsider, "member", inbox=inbox)
    assert client.get(f"{API}/programs/{w.program_id}/ideas",
                      headers=colleague.headers).status_code == 404  # fmt: skip


def test_the_list_pages_newest_first_and_refuses_a_forged_cursor(
    client: TestClient, inbox: Inbox
) -> None:
    w = world(client, inbox, with_workflow=False)
    titles = [f"Idea {n}" for n in range(3)]
    for title in titles:
        propose(client, w.a_seller, w.program_id, title=title)
    url = f"{API}/programs/{w.program_id}/ideas"
    seen: list[str] = []
    cursor: str | None = None
    for _ in titles:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get(url, params=params, headers=w.b.headers).json()
        seen += [i["title"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == titles[::-1]
    for forged in ("not-a-cursor", "WyJ4Il0", "MTIz"):  # junk, ["x"], "123"
        refused = client.get(url, params={"cursor": forged}, headers=w.b.headers)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["path"] == "query.cursor"
