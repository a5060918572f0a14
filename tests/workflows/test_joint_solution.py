"""The joint-solution flow end to end through the API, with a program host and two partners:
Business Review > Approval (the host's manager) > Partner Approval (each partner's admin, in
parallel) > Execution > Completion, the rejection path, Canceled/Declined from any open stage,
and sequential approvals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from tests.fixtures.builders import Member, make_colleague, make_company, make_partnership
from tests.fixtures.cosell import API
from tests.fixtures.smtp import Inbox
from tests.fixtures.versions import matching
from tests.fixtures.workflows import (
    approvals_inbox,
    decide,
    join,
    move,
    record,
    states,
    try_move,
    workflow,
)

SOLUTIONS = f"{API}/solutions"


@dataclass
class Network:
    host: Member  # admin of the program's host
    host_manager: Member
    host_member: Member
    a: Member  # admin of partner A
    a_member: Member
    b: Member  # admin of partner B
    program_id: str
    workflow: dict[str, Any]


def network(client: TestClient, inbox_: Inbox, **workflow_body: Any) -> Network:
    host = make_company(client, "Nimbus Host")
    host_manager = make_colleague(client, host, "manager", inbox=inbox_)
    host_member = make_colleague(client, host, "member", inbox=inbox_)
    a = make_company(client, "Partner A")
    a_member = make_colleague(client, a, "member", inbox=inbox_)
    b = make_company(client, "Partner B")
    make_partnership(client, host, a)
    make_partnership(client, host, b)
    program_id = record(client, host, "program", "Marketplace co-sell program")
    join(client, host, "program", program_id, a, b)
    body = workflow_body or {"template": "joint_solution"}
    wf = workflow(client, host_manager, program_id=program_id, **body)
    return Network(host, host_manager, host_member, a, a_member, b, program_id, wf)


def solution(client: TestClient, net: Network, title: str, **core: Any) -> str:
    solution_id = record(client, net.host, "solution", title, core=core)
    join(client, net.host, "solution", solution_id, net.a, net.b)
    attached = client.post(
        f"{SOLUTIONS}/{solution_id}/workflows/{net.workflow['id']}/attach",
        headers=net.host.headers,
    )
    assert attached.status_code == 200, attached.text
    return solution_id


def joint_stage(client: TestClient, who: Member, solution_id: str) -> str | None:
    response = client.get(f"{SOLUTIONS}/{solution_id}", headers=who.headers)
    assert response.status_code == 200, response.text
    stage: str | None = response.json()["joint_stage"]
    return stage


def test_the_template_is_the_joint_solution_flow(client: TestClient, inbox: Inbox) -> None:
    net = network(client, inbox)
    wf = net.workflow
    assert wf["scope"] == "program"
    assert wf["kind"] == "solution"
    assert [(s["key"], s["category"]) for s in wf["stages"]] == [
        ("business_review", "open"),
        ("approval", "open"),
        ("partner_approval", "open"),
        ("execution", "open"),
        ("completion", "won"),
        ("canceled", "lost"),
        ("declined", "lost"),
    ]
    # the program's partners read it; nobody else does
    listed = client.get(f"{API}/workflows", headers=net.a.headers).json()
    assert [w["id"] for w in listed] == [wf["id"]]
    outsider = make_company(client, "Outsider")
    assert client.get(f"{API}/workflows/{wf['id']}", headers=outsider.headers).status_code == 404
    assert client.get(f"{API}/workflows", headers=outsider.headers).json() == []
    # only the host defines it, and only its managers and admins
    refused = client.post(
        f"{API}/workflows",
        json={"template": "standard_pipeline", "program_id": net.program_id, "kind": "opportunity"},
        headers=net.a.headers,
    )
    assert refused.status_code == 403
    member = client.post(
        f"{API}/workflows",
        json={"template": "standard_pipeline", "program_id": net.program_id, "kind": "opportunity"},
        headers=net.host_member.headers,
    )
    assert member.status_code == 403
    # one active program workflow per kind
    again = client.post(
        f"{API}/workflows",
        json={"template": "joint_solution", "program_id": net.program_id},
        headers=net.host.headers,
    )
    assert again.status_code == 409
    # a joint solution workflow needs a program
    lonely = client.post(
        f"{API}/workflows", json={"template": "joint_solution"}, headers=net.host.headers
    )
    assert lonely.status_code == 422
    assert lonely.json()["errors"][0]["path"] == "body.program_id"


def test_joint_solution_end_to_end(client: TestClient, inbox: Inbox) -> None:
    net = network(client, inbox)
    wf_id = net.workflow["id"]
    sid = solution(client, net, "Fraud analytics on Nimbus", customer_name="")

    # every participant sees the record on the workflow, with no stage yet
    for who in (net.host, net.a, net.b):
        state = states(client, who, "solution", sid)[wf_id]
        assert state["stage"] is None
        assert state["allowed_moves"] == ["business_review", "canceled", "declined"]

    # partner A opens the business review: its step becomes a task shared with everyone
    first = move(client, net.a, "solution", sid, wf_id, "business_review")
    assert first["move"]["status"] == "done"
    assert joint_stage(client, net.host, sid) == "business_review"
    tasks = client.get(f"{SOLUTIONS}/{sid}/tasks", headers=net.b.headers).json()
    assert [(t["title"], t["company_name"], t["shared"]) for t in tasks] == [
        ("Review the business case", "Partner A", True)
    ]
    assert tasks[0]["owner_user_id"] is None  # another company's owner is not shown
    mine = client.get(f"{SOLUTIONS}/{sid}/tasks", headers=net.a.headers).json()
    assert mine[0]["owner_user_id"] == net.a.user_id
    assert mine[0]["mine"] is True

    # Approval needs the customer name (a shared core field): 422 names the path
    refused = try_move(client, net.host, "solution", sid, wf_id, "approval")
    assert refused.status_code == 422, refused.text
    assert [e["path"] for e in refused.json()["errors"]] == ["customer_name"]
    assert joint_stage(client, net.host, sid) == "business_review"
    patched = client.patch(
        f"{SOLUTIONS}/{sid}",
        json={"customer_name": "Acme Bank"},
        headers=matching(client, net.host, f"{SOLUTIONS}/{sid}"),
    )
    assert patched.status_code == 200, patched.text
    move(client, net.host, "solution", sid, wf_id, "approval")

    # leaving Approval needs the host's manager: a pending move, nothing applied yet
    pending = move(client, net.host_member, "solution", sid, wf_id, "partner_approval")
    assert pending["move"]["status"] == "pending"
    [approval] = pending["move"]["approvals"]
    assert (approval["company_name"], approval["role"], approval["status"]) == (
        "Nimbus Host",
        "manager",
        "pending",
    )
    assert joint_stage(client, net.host, sid) == "approval"
    assert pending["state"]["pending_move"]["id"] == pending["move"]["id"]
    assert pending["state"]["can_move"] is False
    blocked = try_move(client, net.host, "solution", sid, wf_id, "canceled")
    assert blocked.status_code == 409
    assert blocked.json()["type"] == "/problems/move-pending"
    # a member may not approve, a partner's admin may not either; the manager does
    assert decide(client, net.host_member, approval["id"]).status_code == 403
    assert decide(client, net.a, approval["id"]).status_code == 403
    assert [i["approval"]["id"] for i in approvals_inbox(client, net.host_manager)] == [
        approval["id"]
    ]
    assert approvals_inbox(client, net.host_member) == []  # their role does not suffice
    assert approvals_inbox(client, net.a) == []
    done = decide(client, net.host_manager, approval["id"], comment="Business case holds")
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "done"
    assert joint_stage(client, net.a, sid) == "partner_approval"
    again = decide(client, net.host_manager, approval["id"])
    assert again.status_code == 409

    # Partner Approval: each partner's admin, in parallel
    pending = move(client, net.host, "solution", sid, wf_id, "execution")
    approvals = pending["move"]["approvals"]
    assert sorted((a["company_name"], a["role"], a["status"]) for a in approvals) == [
        ("Partner A", "admin", "pending"),
        ("Partner B", "admin", "pending"),
    ]
    by_company = {a["company_name"]: a["id"] for a in approvals}
    assert [i["record_title"] for i in approvals_inbox(client, net.b)] == [
        "Fraud analytics on Nimbus"
    ]
    assert decide(client, net.a_member, by_company["Partner A"]).status_code == 403
    first_yes = decide(client, net.a, by_company["Partner A"])
    assert first_yes.json()["status"] == "pending"
    assert joint_stage(client, net.host, sid) == "partner_approval"
    second_yes = decide(client, net.b, by_company["Partner B"])
    assert second_yes.json()["status"] == "done"
    assert joint_stage(client, net.host, sid) == "execution"
    assert approvals_inbox(client, net.b) == []
    assert [i["record_title"] for i in approvals_inbox(client, net.b, "approved")] == [
        "Fraud analytics on Nimbus"
    ]

    completed = move(client, net.a, "solution", sid, wf_id, "completion")
    assert completed["state"]["stage"] == {
        "key": "completion",
        "name": "Completion",
        "category": "won",
    }
    assert completed["state"]["allowed_moves"] == []  # won is not open: nothing further

    # the history: every move, newest first, with its approvals and who decided
    history = client.get(
        f"{SOLUTIONS}/{sid}/workflows/{wf_id}/history", headers=net.b.headers
    ).json()
    assert [(m["from_stage"], m["to_stage"], m["status"]) for m in history] == [
        ("execution", "completion", "done"),
        ("partner_approval", "execution", "done"),
        ("approval", "partner_approval", "done"),
        ("business_review", "approval", "done"),
        (None, "business_review", "done"),
    ]
    host_approval = history[2]["approvals"][0]
    assert host_approval["status"] == "approved"
    assert host_approval["comment"] == "Business case holds"
    assert history[2]["requested_by_company_name"] == "Nimbus Host"


def test_a_rejection_rejects_the_move_and_declined_is_reachable(
    client: TestClient, inbox: Inbox
) -> None:
    net = network(client, inbox)
    wf_id = net.workflow["id"]
    sid = solution(client, net, "Edge retail", customer_name="Shopco")
    for stage in ("business_review", "approval"):
        move(client, net.host, "solution", sid, wf_id, stage)
    pending = move(client, net.host, "solution", sid, wf_id, "partner_approval")
    decide(client, net.host_manager, pending["move"]["approvals"][0]["id"])
    pending = move(client, net.host, "solution", sid, wf_id, "execution")
    by_company = {a["company_name"]: a["id"] for a in pending["move"]["approvals"]}
    rejected = decide(client, net.b, by_company["Partner B"], "reject", "Not in our region")
    assert rejected.status_code == 200, rejected.text
    body = rejected.json()
    assert body["status"] == "rejected"
    statuses = {a["company_name"]: a["status"] for a in body["approvals"]}
    assert statuses == {"Partner A": "canceled", "Partner B": "rejected"}
    assert joint_stage(client, net.host, sid) == "partner_approval"
    assert approvals_inbox(client, net.a) == []  # the canceled approval left A's inbox
    assert decide(client, net.a, by_company["Partner A"]).status_code == 409
    # the host declines the solution: any open stage may go to Declined
    declined = move(client, net.host, "solution", sid, wf_id, "declined")
    assert declined["state"]["stage"]["category"] == "lost"
    # a lost stage is not open: it cannot be canceled any more
    refused = try_move(client, net.host, "solution", sid, wf_id, "canceled")
    assert refused.status_code == 409
    assert refused.json()["type"] == "/problems/transition-not-allowed"


def test_sequential_approvals_come_one_at_a_time(client: TestClient, inbox: Inbox) -> None:
    net = network(
        client,
        inbox,
        kind="solution",
        name="Two-step sign-off",
        stages=[
            {"key": "draft", "name": "Draft"},
            {"key": "signed", "name": "Signed", "category": "won"},
        ],
        transitions=[
            {
                "from": "draft",
                "to": "signed",
                "mode": "sequential",
                "approvals": [
                    {"company": "host", "role": "manager"},
                    {"company": "partners", "role": "admin"},
                ],
            }
        ],
    )
    wf_id = net.workflow["id"]
    sid = solution(client, net, "Sequential deal")
    move(client, net.a, "solution", sid, wf_id, "draft")
    pending = move(client, net.a, "solution", sid, wf_id, "signed")["move"]
    order = [(a["position"], a["company_name"], a["status"]) for a in pending["approvals"]]
    assert order[0] == (0, "Nimbus Host", "pending")
    assert sorted(o[1:] for o in order[1:]) == [("Partner A", "waiting"), ("Partner B", "waiting")]
    by_company = {a["company_name"]: a["id"] for a in pending["approvals"]}
    not_yet = decide(client, net.b, by_company["Partner B"])
    assert not_yet.status_code == 409
    assert not_yet.json()["type"] == "/problems/not-your-turn"
    assert approvals_inbox(client, net.b) == []
    after_host = decide(client, net.host_manager, by_company["Nimbus Host"]).json()
    now = {a["company_name"]: a["status"] for a in after_host["approvals"]}
    assert now == {"Nimbus Host": "approved", "Partner A": "pending", "Partner B": "waiting"}
    assert decide(client, net.a, by_company["Partner A"]).json()["status"] == "pending"
    assert decide(client, net.b, by_company["Partner B"]).json()["status"] == "done"
    assert joint_stage(client, net.a, sid) == "signed"


def test_a_stale_move_is_refused_with_412(client: TestClient, inbox: Inbox) -> None:
    net = network(client, inbox)
    wf_id = net.workflow["id"]
    sid = solution(client, net, "Race", customer_name="Racing Co")
    version = states(client, net.a, "solution", sid)[wf_id]["version"]
    moved = try_move(client, net.a, "solution", sid, wf_id, "business_review", version=version)
    assert moved.status_code == 201, moved.text
    assert moved.headers["ETag"] == f'"{version + 1}"'
    # B read the state before A's move and moves on the strength of it
    stale = try_move(client, net.b, "solution", sid, wf_id, "canceled", version=version)
    assert stale.status_code == 412
    assert stale.json()["current_version"] == version + 1
    assert joint_stage(client, net.b, sid) == "business_review"


def test_the_requesting_company_can_withdraw_a_pending_move(
    client: TestClient, inbox: Inbox
) -> None:
    net = network(client, inbox)
    wf_id = net.workflow["id"]
    sid = solution(client, net, "Withdrawn", customer_name="W")
    for stage in ("business_review", "approval"):
        move(client, net.host, "solution", sid, wf_id, stage)
    pending = move(client, net.host, "solution", sid, wf_id, "partner_approval")["move"]
    url = f"{SOLUTIONS}/{sid}/workflows/{wf_id}/moves/{pending['id']}/cancel"
    assert client.post(url, headers=net.a.headers).status_code == 403
    canceled = client.post(url, headers=net.host.headers)
    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["status"] == "canceled"
    assert approvals_inbox(client, net.host_manager) == []
    assert decide(client, net.host_manager, pending["approvals"][0]["id"]).status_code == 409


def test_the_joint_stage_patch_is_guarded_on_a_program_workflow(
    client: TestClient, inbox: Inbox
) -> None:
    net = network(client, inbox)
    wf_id = net.workflow["id"]
    sid = solution(client, net, "Guarded joint stage", customer_name="G")
    url = f"{SOLUTIONS}/{sid}"

    def patch_joint_stage(stage: str) -> Any:
        return client.patch(
            url, json={"joint_stage": stage}, headers=matching(client, net.host, url)
        )

    bogus = patch_joint_stage("bogus")
    assert bogus.status_code == 422
    assert bogus.json()["errors"][0]["path"] == "body.joint_stage"
    skip = patch_joint_stage("execution")
    assert skip.status_code == 409
    assert skip.json()["type"] == "/problems/transition-not-allowed"
    first = patch_joint_stage("business_review")
    assert first.status_code == 200, first.text
    assert patch_joint_stage("approval").status_code == 200
    gated = patch_joint_stage("partner_approval")
    assert gated.status_code == 409
    assert gated.json()["type"] == "/problems/approval-required"
    assert joint_stage(client, net.a, sid) == "approval"
    history = client.get(f"{url}/workflows/{wf_id}/history", headers=net.a.headers).json()
    assert [(m["from_stage"], m["to_stage"]) for m in history] == [
        ("business_review", "approval"),
        (None, "business_review"),
    ]
