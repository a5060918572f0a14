"""A company's own workflow (it drives the company's space `stage`): entry criteria, the stage
PATCH guard, steps becoming tasks, and what partners and strangers never see."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.fixtures.builders import Member, make_colleague, make_company, make_partnership
from tests.fixtures.cosell import API
from tests.fixtures.smtp import Inbox
from tests.fixtures.versions import at_version, my_space
from tests.fixtures.workflows import (
    decide,
    fill,
    join,
    move,
    record,
    states,
    try_move,
    workflow,
)
from tests.kit.assertions import assert_problem

OPPS = f"{API}/opportunities"


def _patch_stage(client: TestClient, who: Member, rid: str, **fields: Any) -> Any:
    headers = my_space(client, who, f"{OPPS}/{rid}")
    return client.patch(f"{OPPS}/{rid}/spaces/mine", json={"fields": fields}, headers=headers)


def _my_stage(client: TestClient, who: Member, rid: str) -> Any:
    spaces = client.get(f"{OPPS}/{rid}", headers=who.headers).json()["spaces"]
    return next(s for s in spaces if s["is_mine"])["fields"].get("stage")


def test_entry_criteria_name_each_missing_field_path(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    rid = record(client, acme, "opportunity", "Big deal")  # before the workflow: no stage yet
    wf = workflow(client, acme, template="standard_pipeline")
    assert (wf["scope"], wf["kind"]) == ("company", "opportunity")
    move(client, acme, "opportunity", rid, wf["id"], "qualify")
    refused = try_move(client, acme, "opportunity", rid, wf["id"], "negotiate")
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["type"] == "/problems/entry-criteria"
    assert [e["path"] for e in body["errors"]] == ["mine.amount", "mine.close_date"]
    assert _my_stage(client, acme, rid) == "qualify"
    fill(client, acme, "opportunity", rid, amount=5000)
    still = try_move(client, acme, "opportunity", rid, wf["id"], "negotiate")
    assert [e["path"] for e in still.json()["errors"]] == ["mine.close_date"]
    fill(client, acme, "opportunity", rid, close_date="2026-09-30")
    moved = move(client, acme, "opportunity", rid, wf["id"], "negotiate")
    assert moved["state"]["stage"]["key"] == "negotiate"
    assert _my_stage(client, acme, rid) == "negotiate"
    # a stage that does not exist is a 422 on the body
    unknown = try_move(client, acme, "opportunity", rid, wf["id"], "heaven")
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["path"] == "body.to"


def test_definitions_are_validated_with_field_paths(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    cases = [
        (
            {"stages": [{"key": "a", "name": "A"}, {"key": "a", "name": "Again"}]},
            "body.stages.1.key",
        ),
        (
            {"stages": [{"key": "a", "name": "A", "required_fields": ["mine.nope"]}]},
            "body.stages.0.required_fields.0",
        ),
        (
            {"stages": [{"key": "a", "name": "A", "required_fields": ["budget"]}]},
            "body.stages.0.required_fields.0",
        ),
        (
            {
                "stages": [{"key": "a", "name": "A"}],
                "transitions": [{"from": "a", "to": "zz"}],
            },
            "body.transitions.0.to",
        ),
        (
            {
                "stages": [{"key": "a", "name": "A"}, {"key": "b", "name": "B"}],
                "transitions": [{"from": "a", "to": "b", "approvals": [{"company": "partners"}]}],
            },
            "body.transitions.0.approvals.0.company",
        ),
        (
            {"stages": [{"key": "a", "name": "A", "steps": [{"title": "x", "owner": "nobody"}]}]},
            "body.stages.0.steps.0.owner",
        ),
    ]
    for body, path in cases:
        response = client.post(
            f"{API}/workflows",
            json={"kind": "opportunity", "name": "W", **body},
            headers=acme.headers,
        )
        assert response.status_code == 422, (body, response.text)
        assert response.json()["errors"][0]["path"] == path, response.text
    assert client.get(f"{API}/workflows", headers=acme.headers).json() == []


def test_editing_a_workflow_needs_its_version(client: TestClient, inbox: Inbox) -> None:
    acme = make_company(client, "Acme")
    member = make_colleague(client, acme, "member", inbox=inbox)
    wf = workflow(client, acme, template="standard_pipeline")
    url = f"{API}/workflows/{wf['id']}"
    body = {"name": "Renamed", "stages": wf["stages"], "transitions": wf["transitions"]}
    assert (
        client.put(url, json=body, headers={**member.headers, "If-Match": "1"}).status_code == 403
    )
    assert_problem(client.put(url, json=body, headers=acme.headers), 428, "precondition-required")
    stale = client.put(url, json=body, headers={**acme.headers, "If-Match": "7"})
    assert stale.status_code == 412
    saved = client.put(url, json=body, headers={**acme.headers, "If-Match": "1"})
    assert saved.status_code == 200
    assert saved.json()["version"] == 2
    assert client.get(url, headers=member.headers).json()["name"] == "Renamed"
    gone = client.delete(url, headers={**acme.headers, "If-Match": "2"})
    assert gone.status_code == 204
    assert client.get(url, headers=acme.headers).status_code == 404


def test_stage_patch_is_guarded_while_a_workflow_is_active(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    rid = record(client, acme, "opportunity", "Guarded", stage="anything goes")  # no workflow yet
    wf = workflow(
        client,
        acme,
        kind="opportunity",
        name="Gated",
        stages=[
            {"key": "open", "name": "Open"},
            {"key": "review", "name": "Review", "required_fields": ["mine.amount"]},
            {"key": "won", "name": "Won", "category": "won"},
        ],
        transitions=[
            {"from": "open", "to": "review"},
            {"from": "review", "to": "won", "approvals": [{"company": "host", "role": "admin"}]},
        ],
    )
    not_a_stage = _patch_stage(client, acme, rid, stage="negotiate")
    assert not_a_stage.status_code == 422
    assert not_a_stage.json()["errors"][0]["path"] == "body.fields.stage"
    # creating a record in a stage the workflow does not have is refused too
    created = client.post(
        OPPS, json={"title": "x", "fields": {"stage": "bogus"}}, headers=acme.headers
    )
    assert created.status_code == 422
    # entering the first stage is allowed by PATCH, and recorded as a move
    assert _patch_stage(client, acme, rid, stage="open").status_code == 200
    history = client.get(f"{OPPS}/{rid}/workflows/{wf['id']}/history", headers=acme.headers)
    assert [(m["from_stage"], m["to_stage"]) for m in history.json()] == [(None, "open")]
    # skipping the entry criteria: 409 pointing at the move route, nothing written
    skipped = _patch_stage(client, acme, rid, stage="review")
    assert skipped.status_code == 409
    assert skipped.json()["move_route"].endswith(f"/workflows/{wf['id']}/moves")
    assert _my_stage(client, acme, rid) == "open"
    # filling the criteria in the same PATCH satisfies them
    assert _patch_stage(client, acme, rid, stage="review", amount=100).status_code == 200
    # an approval-gated transition cannot be taken by PATCH
    gated = _patch_stage(client, acme, rid, stage="won")
    assert gated.status_code == 409
    assert gated.json()["type"] == "/problems/approval-required"
    assert _my_stage(client, acme, rid) == "review"
    # the move route asks the approval, and the stage applies when it is given
    pending = move(client, acme, "opportunity", rid, wf["id"], "won")["move"]
    assert pending["status"] == "pending"
    assert decide(client, acme, pending["approvals"][0]["id"]).json()["status"] == "done"
    assert _my_stage(client, acme, rid) == "won"
    # other fields still save freely
    assert _patch_stage(client, acme, rid, amount=250).status_code == 200


def test_partners_never_see_a_company_workflow_nor_its_private_tasks(
    client: TestClient,
) -> None:
    acme = make_company(client, "Acme")
    partner = make_company(client, "Partner")
    make_partnership(client, acme, partner)
    rid = record(client, acme, "opportunity", "Shared deal", amount=900)  # no stage yet
    wf = workflow(client, acme, template="standard_pipeline")
    join(client, acme, "opportunity", rid, partner)
    move(client, acme, "opportunity", rid, wf["id"], "qualify")  # a step makes a private task
    private = client.post(
        f"{OPPS}/{rid}/tasks", json={"title": "Internal pricing call"}, headers=acme.headers
    ).json()
    shared = client.post(
        f"{OPPS}/{rid}/tasks",
        json={"title": "Joint customer meeting", "shared": True, "due_date": "2026-05-01"},
        headers=acme.headers,
    ).json()

    assert wf["id"] in states(client, acme, "opportunity", rid)
    assert wf["id"] not in states(client, partner, "opportunity", rid)
    for url in (
        f"{OPPS}/{rid}/workflows/{wf['id']}/history",
        f"{API}/workflows/{wf['id']}",
    ):
        assert client.get(url, headers=partner.headers).status_code == 404, url
    moved = try_move(client, partner, "opportunity", rid, wf["id"], "develop")
    assert moved.status_code == 404
    seen = client.get(f"{OPPS}/{rid}/tasks", headers=partner.headers).json()
    assert [t["title"] for t in seen] == ["Joint customer meeting"]
    assert seen[0]["owner_user_id"] is None
    assert seen[0]["mine"] is False
    assert client.get(f"{API}/tasks/{private['id']}", headers=partner.headers).status_code == 404
    # a partner reads a shared task but does not edit it
    edit = client.patch(
        f"{API}/tasks/{shared['id']}", json={"done": True}, headers=at_version(partner, 1)
    )
    assert edit.status_code == 403
    listed = client.get(f"{API}/tasks", headers=partner.headers).json()["items"]
    assert [t["title"] for t in listed] == ["Joint customer meeting"]
    mine = client.get(f"{API}/tasks", params={"mine": "true"}, headers=acme.headers).json()
    assert [t["title"] for t in mine["items"]] == ["Qualify the need with the customer"]
    # the step's task is Acme's and assigned to the mover (no owner in Acme's space)
    acme_tasks = {
        t["title"]: t for t in client.get(f"{OPPS}/{rid}/tasks", headers=acme.headers).json()
    }
    assert acme_tasks["Qualify the need with the customer"]["owner_user_id"] == acme.user_id
    assert acme_tasks["Qualify the need with the customer"]["shared"] is False
    assert "Internal pricing call" in acme_tasks


def test_tasks_done_owner_due_date_with_versions(client: TestClient, inbox: Inbox) -> None:
    acme = make_company(client, "Acme")
    rep = make_colleague(client, acme, "member", inbox=inbox)
    other = make_company(client, "Other")
    rid = record(client, acme, "opportunity", "Tasks")
    created = client.post(
        f"{OPPS}/{rid}/tasks",
        json={"title": "Call the CFO", "owner_user_id": rep.user_id, "due_date": "2026-03-01"},
        headers=acme.headers,
    )
    assert created.status_code == 201, created.text
    task = created.json()
    assert task["owner_name"]
    assert task["version"] == 1
    foreign = client.post(
        f"{OPPS}/{rid}/tasks",
        json={"title": "x", "owner_user_id": other.user_id},
        headers=acme.headers,
    )
    assert foreign.status_code == 422
    assert foreign.json()["errors"][0]["path"] == "body.owner_user_id"
    url = f"{API}/tasks/{task['id']}"
    done = client.patch(url, json={"done": True}, headers={**rep.headers, "If-Match": "1"})
    assert done.status_code == 200, done.text
    assert done.json()["done"] is True
    assert done.json()["done_by_user_id"] == rep.user_id
    stale = client.patch(url, json={"done": False}, headers={**acme.headers, "If-Match": "1"})
    assert stale.status_code == 412
    due = client.get(
        f"{API}/tasks", params={"mine": "true", "due_before": "2026-04-01"}, headers=rep.headers
    ).json()["items"]
    assert [t["title"] for t in due] == ["Call the CFO"]
    open_only = client.get(f"{API}/tasks", params={"done": "false"}, headers=rep.headers).json()
    assert open_only["items"] == []
    assert client.delete(url, headers={**acme.headers, "If-Match": "2"}).status_code == 204
    assert client.get(url, headers=acme.headers).status_code == 404


def test_a_company_not_on_the_record_gets_404_on_every_route(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    stranger = make_company(client, "Stranger")
    rid = record(client, acme, "opportunity", "Secret", amount=1)  # no stage yet
    wf = workflow(client, acme, template="standard_pipeline")
    move(client, acme, "opportunity", rid, wf["id"], "qualify")
    task = client.post(
        f"{OPPS}/{rid}/tasks", json={"title": "t", "shared": True}, headers=acme.headers
    )
    task_id = task.json()["id"]
    gated = workflow(
        client,
        acme,
        kind="lead",
        name="Lead gate",
        stages=[{"key": "a", "name": "A"}, {"key": "b", "name": "B"}],
        transitions=[{"from": "a", "to": "b", "approvals": [{"company": "host"}]}],
    )
    lead = record(client, acme, "lead", "Lead")  # enters A, the first stage
    approval_id = move(client, acme, "lead", lead, gated["id"], "b")["move"]["approvals"][0]["id"]
    h = stranger.headers
    w = at_version(stranger, 1)  # conditional writes carry a version: refused for who they are
    checks = [
        client.get(f"{OPPS}/{rid}/workflows", headers=h),
        client.post(f"{OPPS}/{rid}/workflows/{wf['id']}/moves", json={"to": "develop"}, headers=w),
        client.get(f"{OPPS}/{rid}/workflows/{wf['id']}/history", headers=h),
        client.post(f"{OPPS}/{rid}/workflows/{wf['id']}/attach", headers=h),
        client.get(f"{OPPS}/{rid}/tasks", headers=h),
        client.post(f"{OPPS}/{rid}/tasks", json={"title": "x"}, headers=h),
        client.get(f"{API}/tasks/{task_id}", headers=h),
        client.patch(f"{API}/tasks/{task_id}", json={"done": True}, headers=w),
        client.delete(f"{API}/tasks/{task_id}", headers=w),
        client.get(f"{API}/workflows/{wf['id']}", headers=h),
        client.put(
            f"{API}/workflows/{wf['id']}",
            json={"name": "x", "stages": [{"key": "a", "name": "A"}]},
            headers=w,
        ),
        client.delete(f"{API}/workflows/{wf['id']}", headers=w),
        client.post(f"{API}/workflow-approvals/{approval_id}/approve", json={}, headers=h),
        client.post(f"{API}/workflow-approvals/{approval_id}/reject", json={}, headers=h),
        client.get(
            f"{API}/boards", params={"kind": "opportunity", "workflow_id": wf["id"]}, headers=h
        ),
    ]
    assert [r.status_code for r in checks] == [404] * len(checks), [
        (r.request.method, r.request.url.path, r.status_code) for r in checks
    ]
    for response in checks:
        assert "Secret" not in response.text
    assert client.get(f"{API}/tasks", headers=h).json()["items"] == []
    assert client.get(f"{API}/workflow-approvals", headers=h).json() == []


def test_a_private_stage_is_not_shown_nor_moved_while_private_fields_are_hidden(
    client: TestClient,
) -> None:
    acme = make_company(client, "Acme")
    wf = workflow(client, acme, template="standard_pipeline")
    rid = record(client, acme, "opportunity", "Hidden stage", stage="qualify")
    hide = client.patch(
        f"{API}/me/preferences", json={"hide_private_fields": True}, headers=acme.headers
    )
    assert hide.status_code == 200
    state = states(client, acme, "opportunity", rid)[wf["id"]]
    assert state["stage"] is None
    assert state["allowed_moves"] == []
    assert state["can_move"] is False
    refused = try_move(client, acme, "opportunity", rid, wf["id"], "develop")
    assert refused.status_code == 409
    assert "qualify" not in refused.text
