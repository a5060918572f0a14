"""Who sees which workflow, read path by read path, with canary names.

Acme hosts the program P with its workflow W (its name, a stage name and a step's task title are
canaries) and runs its own private opportunity workflow (a canary name too). Acme's plan on P has
Bolt (on the program) and Crux (not on it); both are on Acme's opportunity, which the plan links
and which Acme moves on both workflows. Crux gets no trace of W from any API route, page,
notification or e-mail, and neither partner ever sees the private workflow's name; Bolt sees W
until it leaves the program, and from that moment no more.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.testclient import TestClient

from coterie.workflows.board_pages import NOT_VISIBLE_WORKFLOW
from tests.fixtures.builders import Member, make_colleague, make_company, make_partnership
from tests.fixtures.cosell import API, link, plan, template
from tests.fixtures.smtp import Inbox, text_of
from tests.fixtures.workflows import (
    approvals_inbox,
    decide,
    fill,
    join,
    move,
    program_on_plan,
    record,
    states,
    try_move,
    workflow,
)
from tests.web.conftest import Browser
from tests.web.html import parse
from tests.web.test_network_pages import signed_in
from tests.web.test_record_pages import htmx

OPPS = f"{API}/opportunities"
PROGRAM_FLOW = "Canary-Program-Flow-5af1"
PROGRAM_STAGE = "Canary-Intake-Stage-77c2"
PROGRAM_TASK = "Canary-Program-Step-Task-91d3"
PRIVATE_FLOW = "Canary-Private-Flow-3be8"


@dataclass
class Scene:
    acme: Member  # hosts the program, owns the plan and the opportunity
    bolt: Member  # on the program, the plan and the opportunity
    crux: Member  # on the plan and the opportunity, not on the program
    program_id: str
    plan_id: str
    record_id: str
    program_flow: dict[str, Any]
    private_flow: dict[str, Any]

    def program_traces(self) -> tuple[str, ...]:
        return (PROGRAM_FLOW, PROGRAM_STAGE, PROGRAM_TASK, self.program_flow["id"], self.program_id)

    def private_traces(self) -> tuple[str, ...]:
        return (PRIVATE_FLOW, self.private_flow["id"])


def _scene(client: TestClient) -> Scene:
    acme = make_company(client, "Acme")
    bolt = make_company(client, "Bolt")
    crux = make_company(client, "Crux")
    make_partnership(client, acme, bolt)
    make_partnership(client, acme, crux)
    template(client, acme, "opportunity", stage="participants")
    program_id = record(client, acme, "program", "Acme partner program")
    join(client, acme, "program", program_id, bolt)
    program_flow = workflow(
        client,
        acme,
        kind="opportunity",
        name=PROGRAM_FLOW,
        program_id=program_id,
        stages=[
            {
                "key": "intake",
                "name": PROGRAM_STAGE,
                "steps": [{"title": PROGRAM_TASK, "owner": "mover", "due_in_days": 3}],
            },
            {"key": "review", "name": "Partner review"},
            {"key": "agreed", "name": "Agreed", "category": "won"},
        ],
        transitions=[
            {"from": "intake", "to": "review"},
            {
                "from": "review",
                "to": "agreed",
                "approvals": [{"company": "partners", "role": "admin"}],
            },
        ],
    )
    # the deal comes before Acme's workflow, so it has no stage yet (a new one would enter
    # Qualify at once): the tests move it there
    record_id = record(
        client, acme, "opportunity", "Shared deal", amount=5000, close_date="2031-06-30"
    )
    private_flow = workflow(client, acme, template="standard_pipeline", name=PRIVATE_FLOW)
    plan_id = plan(client, acme, "Joint plan", bolt, crux)
    program_on_plan(client, acme, program_id, plan_id)
    join(client, acme, "opportunity", record_id, bolt, crux)
    link(client, acme, plan_id, record_id)
    return Scene(acme, bolt, crux, program_id, plan_id, record_id, program_flow, private_flow)


def _moves(client: TestClient, scene: Scene, inbox: Inbox) -> None:
    """Acme moves the deal on its private workflow (by the move route and by editing its
    stage) and on the program workflow, up to a move that needs the program partners' approval:
    Bolt is asked and approves."""
    acme, rid = scene.acme, scene.record_id
    private, program = scene.private_flow["id"], scene.program_flow["id"]
    move(client, acme, "opportunity", rid, private, "qualify")
    move(client, acme, "opportunity", rid, private, "develop")
    fill(client, acme, "opportunity", rid, stage="propose")  # recorded as a move too
    move(client, acme, "opportunity", rid, program, "intake")
    edited = _patch_core(client, acme, rid, joint_stage="review")  # recorded as a move too
    assert edited.status_code == 200, edited.text
    pending = move(client, acme, "opportunity", rid, program, "agreed")["move"]
    assert [a["company_id"] for a in pending["approvals"]] == [scene.bolt.company_id]
    _wait_for_subject(inbox, scene.bolt, "asked for your approval")
    assert decide(client, scene.bolt, pending["approvals"][0]["id"]).status_code == 200


def _patch_core(client: TestClient, who: Member, rid: str, **core: Any) -> httpx.Response:
    version = client.get(f"{OPPS}/{rid}", headers=who.headers).json()["version"]
    return client.patch(
        f"{OPPS}/{rid}", json=core, headers={**who.headers, "If-Match": str(version)}
    )


def _wait_for_subject(inbox: Inbox, who: Member, words: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not any(words in str(m["Subject"]) for m in inbox.to(who.email)):
        assert time.monotonic() < deadline, f"no e-mail to {who.email} says {words!r}"
        time.sleep(0.02)


def _api_reads(client: TestClient, scene: Scene, who: Member) -> list[httpx.Response]:
    rid = scene.record_id
    h = who.headers
    program, private = scene.program_flow["id"], scene.private_flow["id"]
    return [
        client.get(f"{OPPS}/{rid}", headers=h),
        client.get(f"{OPPS}/{rid}/workflows", headers=h),
        client.get(f"{OPPS}/{rid}/workflows/{program}/history", headers=h),
        client.get(f"{OPPS}/{rid}/workflows/{private}/history", headers=h),
        client.get(f"{OPPS}/{rid}/timeline", headers=h),
        client.get(f"{OPPS}/{rid}/tasks", headers=h),
        client.get(f"{API}/workflows", headers=h),
        client.get(f"{API}/workflows/{program}", headers=h),
        client.get(f"{API}/workflows/{private}", headers=h),
        client.get(f"{API}/workflow-approvals", params={"status": "pending"}, headers=h),
        client.get(f"{API}/workflow-approvals", params={"status": "approved"}, headers=h),
        client.get(f"{API}/tasks", headers=h),
        client.get(f"{API}/boards", params={"kind": "opportunity"}, headers=h),
        client.get(
            f"{API}/boards", params={"kind": "opportunity", "plan_id": scene.plan_id}, headers=h
        ),
        client.get(
            f"{API}/boards", params={"kind": "opportunity", "workflow_id": program}, headers=h
        ),
        client.get(
            f"{API}/boards", params={"kind": "opportunity", "workflow_id": private}, headers=h
        ),
        client.get(f"{API}/plans/{scene.plan_id}/profile", headers=h),
        client.get(f"{API}/notifications", headers=h),
        client.get(f"{API}/search", params={"q": "Canary"}, headers=h),
    ]


def _pages(browser: Browser, scene: Scene) -> list[httpx.Response]:
    record_page = f"/opportunities/{scene.record_id}"
    program, private = scene.program_flow["id"], scene.private_flow["id"]
    fragments = htmx(browser, record_page)
    return [
        browser.get(record_page),
        browser.get(f"{record_page}/workflow-panel", headers=fragments),
        browser.get(f"{record_page}/activity", headers=fragments),
        browser.get("/board"),
        browser.get(f"/board?kind=opportunity&scope=plan:{scene.plan_id}"),
        browser.get(f"/board?kind=opportunity&workflow_id={program}"),
        browser.get(f"/board?kind=opportunity&workflow_id={private}"),
        browser.get("/approvals"),
        browser.get("/settings/workflows"),
        browser.get(f"/settings/workflows/{program}"),
        browser.get(f"/settings/workflows/{private}"),
        browser.get(f"/plans/{scene.plan_id}"),
        browser.get(f"/plans/{scene.plan_id}/review"),
        browser.get("/notifications"),
    ]


def _leaks(responses: Iterable[httpx.Response], traces: Iterable[str]) -> list[str]:
    """What of `traces` each response shows, besides the echo of the URL asked for."""
    found = []
    for r in responses:
        body = r.text.replace(str(r.request.url), "").replace(r.request.url.path, "")
        for asked in r.request.url.params.values():
            body = body.replace(asked, "")
        found += [f"{r.request.method} {r.request.url} shows {t!r}" for t in traces if t in body]
    return found


def _mail_leaks(inbox: Inbox, who: Member, traces: Iterable[str]) -> list[str]:
    return [
        f"e-mail {m['Subject']!r} shows {trace!r}"
        for m in inbox.to(who.email)
        for trace in traces
        if trace in f"{m['Subject']}\n{text_of(m)}\n{m.get_body(preferencelist=('html',))}"
    ]


def _walked(client: TestClient, who: Member, rid: str, *, limit: int) -> list[str]:
    """The ids of the whole timeline, read page by page with its cursor."""
    seen: list[str] = []
    params: dict[str, Any] = {"limit": limit}
    while True:
        page = client.get(f"{OPPS}/{rid}/timeline", params=params, headers=who.headers).json()
        seen += [i["id"] for i in page["items"]]
        if not page["next_cursor"]:
            return seen
        params["cursor"] = page["next_cursor"]


def _stage_changes(items: list[dict[str, Any]], field: str) -> list[tuple[str, str]]:
    return [
        (i["change"]["old_display"], i["change"]["new_display"])
        for i in items
        if i["type"] == "change" and i["change"]["field"] == field
    ]


def test_a_company_off_the_program_gets_no_trace_of_its_workflow(
    client: TestClient, inbox: Inbox, new_browser: Callable[[], Browser]
) -> None:
    scene = _scene(client)
    _moves(client, scene, inbox)
    crux, rid = scene.crux, scene.record_id

    responses = _api_reads(client, scene, crux)
    assert all(r.status_code in (200, 404) for r in responses), [
        (r.request.url, r.status_code) for r in responses if r.status_code not in (200, 404)
    ]
    assert _leaks(responses, (*scene.program_traces(), *scene.private_traces())) == []
    assert client.get(f"{OPPS}/{rid}/workflows", headers=crux.headers).json() == []
    assert client.get(f"{API}/workflows", headers=crux.headers).json() == []
    for wid in (scene.program_flow["id"], scene.private_flow["id"]):
        assert client.get(f"{API}/workflows/{wid}", headers=crux.headers).status_code == 404
    assert approvals_inbox(client, crux) == []
    notified = client.get(f"{API}/notifications", headers=crux.headers).json()["items"]
    assert [n for n in notified if n["event"].startswith("approval")] == []
    assert _mail_leaks(inbox, crux, (*scene.program_traces(), *scene.private_traces())) == []
    assert not any("approval" in str(m["Subject"]) for m in inbox.to(crux.email))

    # what Crux may know it sees plainly: Acme's shared stage and the joint stage, once each
    timeline = client.get(f"{OPPS}/{rid}/timeline", headers=crux.headers).json()["items"]
    assert {i["type"] for i in timeline} <= {"change", "comment"}
    assert _stage_changes(timeline, "stage") == [
        ("develop", "propose"),
        ("qualify", "develop"),
        ("—", "qualify"),
    ]
    assert _stage_changes(timeline, "joint_stage") == [
        ("review", "agreed"),
        ("intake", "review"),
        ("—", "intake"),
    ]
    assert client.get(f"{OPPS}/{rid}", headers=crux.headers).json()["joint_stage"] == "agreed"
    assert _walked(client, crux, rid, limit=2) == [i["id"] for i in timeline]

    # it cannot move the record on W, nor step around W by editing the joint stage
    refused = try_move(client, crux, "opportunity", rid, scene.program_flow["id"], "intake")
    assert refused.status_code == 404
    patched = _patch_core(client, crux, rid, joint_stage="intake")
    assert patched.status_code == 403, patched.text
    assert _leaks([refused, patched], scene.program_traces()) == []

    pages = _pages(signed_in(new_browser, crux), scene)
    assert _leaks(pages, (*scene.program_traces(), *scene.private_traces())) == []
    assert [r.status_code for r in pages].count(404) == 2  # the two settings pages


def test_a_program_participant_sees_the_workflow_until_it_leaves_the_program(
    client: TestClient, inbox: Inbox, new_browser: Callable[[], Browser]
) -> None:
    scene = _scene(client)
    _moves(client, scene, inbox)
    bolt, rid, program = scene.bolt, scene.record_id, scene.program_flow["id"]

    seen = states(client, bolt, "opportunity", rid)
    assert list(seen) == [program]
    assert seen[program]["workflow"]["name"] == PROGRAM_FLOW
    assert seen[program]["stage"]["key"] == "agreed"
    assert [w["name"] for w in client.get(f"{API}/workflows", headers=bolt.headers).json()] == [
        PROGRAM_FLOW
    ]
    assert [a["workflow_name"] for a in approvals_inbox(client, bolt, "approved")] == [PROGRAM_FLOW]
    tasks = client.get(f"{OPPS}/{rid}/tasks", headers=bolt.headers).json()
    assert [(t["title"], t["workflow_id"]) for t in tasks] == [(PROGRAM_TASK, program)]
    timeline = client.get(f"{OPPS}/{rid}/timeline", headers=bolt.headers).json()["items"]
    moves = [i["text"] for i in timeline if i["type"] == "move"]
    assert moves[-1].endswith(f"moved it to {PROGRAM_STAGE} on {PROGRAM_FLOW}")
    # a workflow Bolt sees: the edit of the joint stage reads as the change and as the move
    assert _stage_changes(timeline, "joint_stage") == [("intake", "review")]
    bolt_browser = signed_in(new_browser, bolt)
    record_page = f"/opportunities/{rid}"
    fragments = htmx(bolt_browser, record_page)
    panel = bolt_browser.get(f"{record_page}/workflow-panel", headers=fragments)
    assert PROGRAM_FLOW in panel.text
    assert PROGRAM_STAGE in panel.text
    # Acme's private workflow: never, in any read of a partner
    assert _leaks(_api_reads(client, scene, bolt), scene.private_traces()) == []
    assert _leaks(_pages(bolt_browser, scene), scene.private_traces()) == []
    assert _mail_leaks(inbox, bolt, scene.private_traces()) == []

    removed = client.delete(
        f"{API}/programs/{scene.program_id}/participants/{bolt.company_id}",
        headers=scene.acme.headers,
    )
    assert removed.status_code == 204, removed.text

    traces = (*scene.program_traces(), *scene.private_traces())
    assert _leaks(_api_reads(client, scene, bolt), traces) == []
    assert _leaks(_pages(bolt_browser, scene), traces) == []
    assert states(client, bolt, "opportunity", rid) == {}
    assert client.get(f"{API}/workflows/{program}", headers=bolt.headers).status_code == 404
    assert approvals_inbox(client, bolt, "approved") == []
    assert client.get(f"{OPPS}/{rid}/tasks", headers=bolt.headers).json() == []
    # the stage changes it may still see stay, worded without the workflow
    timeline = client.get(f"{OPPS}/{rid}/timeline", headers=bolt.headers).json()["items"]
    assert _stage_changes(timeline, "joint_stage")[0] == ("review", "agreed")
    # a link to W's board it kept opens its own board, saying why
    board = parse(bolt_browser.get(f"/board?kind=opportunity&workflow_id={program}").text)
    assert NOT_VISIBLE_WORKFLOW in [e.text for e in board.root.find_all("div", role="status")]
    assert board.root.find("nav", class_="chevrons") is not None
    assert board.form("/board").fields()["workflow_id"] == ""  # "My company's stages"
    # with nothing of W left, a member's panel offers tasks, not a settings page it cannot use
    member = signed_in(new_browser, make_colleague(client, bolt, "member", inbox=inbox))
    panel = member.get(f"{record_page}/workflow-panel", headers=htmx(member, record_page))
    assert "Your company's managers set workflows up." in panel.text
    assert 'href="/settings/workflows"' not in panel.text
    assert parse(panel.text).form(f"{record_page}/workflow-panel/tasks") is not None


def test_program_partners_approve_and_a_company_off_the_program_is_never_asked(
    client: TestClient,
) -> None:
    scene = _scene(client)
    acme, rid, program = scene.acme, scene.record_id, scene.program_flow["id"]
    move(client, acme, "opportunity", rid, program, "intake")
    move(client, acme, "opportunity", rid, program, "review")
    # a transition naming Crux itself cannot be taken: Crux would learn of the workflow
    named = {**scene.program_flow}
    named["transitions"] = [
        {"from": "review", "to": "agreed", "approvals": [{"company": scene.crux.company_id}]}
    ]
    saved = client.put(
        f"{API}/workflows/{program}",
        json={k: named[k] for k in ("name", "stages", "transitions", "active")},
        headers={**acme.headers, "If-Match": str(named["version"])},
    )
    assert saved.status_code == 200, saved.text
    refused = try_move(client, acme, "opportunity", rid, program, "agreed")
    assert refused.status_code == 409, refused.text
    assert refused.json()["type"] == "/problems/approver-not-on-program"
    assert approvals_inbox(client, scene.crux) == []
    told = client.get(f"{API}/notifications", headers=scene.crux.headers).json()["items"]
    # Crux hears only of its invitations (partnership, record), never of the workflow or approval
    assert {n["event"] for n in told} <= {"invitation", "partnership_invitation"}
    assert not any(program in str(n) for n in told)


def test_a_partner_sees_a_private_workflow_move_only_as_a_shared_stage_change(
    client: TestClient,
) -> None:
    scene = _scene(client)
    acme, crux, rid = scene.acme, scene.crux, scene.record_id
    move(client, acme, "opportunity", rid, scene.private_flow["id"], "qualify")
    shown = client.get(f"{OPPS}/{rid}/timeline", headers=crux.headers).json()["items"]
    [change] = [i for i in shown if i["type"] == "change" and i["change"]["field"] == "stage"]
    assert change["text"].endswith("changed Acme's Stage: — → qualify")
    assert change["change"]["company_id"] == acme.company_id
    # Acme stops sharing its stage: the move goes from Crux's timeline with the field
    template(client, acme, "opportunity", stage="private")
    hidden = client.get(f"{OPPS}/{rid}/timeline", headers=crux.headers).json()["items"]
    assert _stage_changes(hidden, "stage") == []
    assert (
        _leaks([client.get(f"{OPPS}/{rid}/timeline", headers=crux.headers)], scene.private_traces())
        == []
    )
    # Acme itself reads its move with its workflow's name and stage names
    own = client.get(f"{OPPS}/{rid}/timeline", headers=acme.headers).json()["items"]
    assert [i["text"].split(" ", 2)[-1] for i in own if i["type"] == "move"] == [
        f"moved it to Qualify on {PRIVATE_FLOW}"
    ]
