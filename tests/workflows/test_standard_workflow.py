"""A board that works from the first minute: a company that signs up gets the standard pipeline
workflow for its opportunities, a new opportunity enters the first stage (with that stage's
step as a task), and the board opens on the workflow most of the viewer's records are on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from coterie.config import Settings
from coterie.db import utcnow
from tests.fixtures.builders import Member, make_company, make_partnership
from tests.fixtures.cosell import API
from tests.fixtures.smtp import Inbox
from tests.fixtures.workflows import fill, join, move, record, states, workflow
from tests.kit.assertions import assert_problem
from tests.web.conftest import Browser
from tests.web.test_network_pages import signed_in
from tests.workflows.test_joint_solution import network, solution

OPPS = f"{API}/opportunities"
STANDARD = ["qualify", "develop", "propose", "negotiate", "won", "lost"]


def _workflows(client: TestClient, who: Member, kind: str) -> list[dict[str, Any]]:
    response = client.get(f"{API}/workflows", params={"kind": kind}, headers=who.headers)
    assert response.status_code == 200, response.text
    return list(response.json())


def _my_stage(client: TestClient, who: Member, rid: str) -> Any:
    spaces = client.get(f"{OPPS}/{rid}", headers=who.headers).json()["spaces"]
    return next(s for s in spaces if s["is_mine"])["fields"].get("stage")


def _board(client: TestClient, who: Member, **params: Any) -> dict[str, Any]:
    response = client.get(
        f"{API}/boards", params={"kind": "opportunity", **params}, headers=who.headers
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_company_that_signs_up_starts_with_the_standard_pipeline(
    client: TestClient, settings: Settings
) -> None:
    settings.standard_workflow_at_signup = True
    acme = make_company(client, "Acme")
    [standard] = _workflows(client, acme, "opportunity")
    assert (standard["name"], standard["scope"], standard["active"]) == (
        "Standard pipeline",
        "company",
        True,
    )
    assert [s["key"] for s in standard["stages"]] == STANDARD
    assert [s["name"] for s in standard["stages"]][:2] == ["Qualify", "Develop"]
    # leads keep the built-in stages: a lead is qualified and converted, not worked to a close
    assert _workflows(client, acme, "lead") == []
    # a stage is chosen from the workflow's stages, never typed freely
    refused = client.post(
        OPPS, json={"title": "Typed", "fields": {"stage": "Prospecting"}}, headers=acme.headers
    )
    assert_problem(refused, 422, "validation-error")
    assert refused.json()["errors"][0]["path"] == "body.fields.stage"


def test_a_new_opportunity_enters_the_first_stage_with_its_step(
    client: TestClient, settings: Settings
) -> None:
    settings.standard_workflow_at_signup = True
    acme = make_company(client, "Acme")
    wf_id = _workflows(client, acme, "opportunity")[0]["id"]
    rid = record(client, acme, "opportunity", "First deal", amount=1200)
    assert _my_stage(client, acme, rid) == "qualify"
    state = states(client, acme, "opportunity", rid)[wf_id]
    assert state["stage"]["key"] == "qualify"
    assert state["version"] == 1
    history = client.get(f"{OPPS}/{rid}/workflows/{wf_id}/history", headers=acme.headers).json()
    assert [(m["from_stage"], m["to_stage"]) for m in history] == [(None, "qualify")]
    [task] = client.get(f"{OPPS}/{rid}/tasks", headers=acme.headers).json()
    assert task["title"] == "Qualify the need with the customer"
    assert task["owner_user_id"] == acme.user_id
    assert task["due_date"] == (utcnow().date() + timedelta(days=7)).isoformat()

    board = _board(client, acme)
    assert board["workflow"]["id"] == wf_id
    assert board["unstaged"]["count"] == 0
    qualify = board["stages"][0]
    assert (qualify["key"], qualify["count"]) == ("qualify", 1)
    [card] = qualify["cards"]
    assert card["owner_name"] is None  # nobody named as the owner in Acme's space yet
    assert card["next_step"] == "Qualify the need with the customer"
    assert card["next_step_due"] == task["due_date"]
    assert card["next_step_overdue"] is False

    # a record created on a stage keeps it; its card names the owner and the overdue step
    fill(client, acme, "opportunity", rid, owner=acme.user_id)
    two_days_ago = (utcnow().date() - timedelta(days=2)).isoformat()
    late = client.post(
        f"{OPPS}/{rid}/tasks",
        json={"title": "Call the buyer", "due_date": two_days_ago},
        headers=acme.headers,
    )
    assert late.status_code == 201, late.text
    other = record(client, acme, "opportunity", "Later deal", stage="develop")
    assert _my_stage(client, acme, other) == "develop"
    board = _board(client, acme)
    [card] = board["stages"][0]["cards"]
    assert card["owner_name"] == "Admin " + acme.email.split("@")[0].removeprefix("admin")
    assert (card["next_step"], card["next_step_overdue"]) == ("Call the buyer", True)
    assert [c["id"] for c in board["stages"][1]["cards"]] == [other]


def test_a_first_stage_with_entry_criteria_leaves_a_record_not_staged_first(
    client: TestClient,
) -> None:
    acme = make_company(client, "Acme")
    assert _workflows(client, acme, "opportunity") == []  # the tests' default: signup adds none
    legacy = record(client, acme, "opportunity", "Legacy", stage="Prospecting")
    workflow(
        client,
        acme,
        kind="opportunity",
        name="Priced pipeline",
        stages=[
            {"key": "priced", "name": "Priced", "required_fields": ["mine.amount"]},
            {"key": "won", "name": "Won", "category": "won"},
        ],
    )
    unpriced = record(client, acme, "opportunity", "Unpriced")
    priced = record(client, acme, "opportunity", "Priced", amount=10)
    assert _my_stage(client, acme, unpriced) is None
    assert _my_stage(client, acme, priced) == "priced"
    board = _board(client, acme)
    assert board["unstaged"]["name"] == "Not staged"
    assert {c["id"] for c in board["unstaged"]["cards"]} == {legacy, unpriced}


def test_the_board_opens_on_the_workflow_most_records_are_on(
    client: TestClient, inbox: Inbox, new_browser: Callable[[], Browser]
) -> None:
    net = network(client, inbox)
    for title in ("Marketplace listing", "Joint webinar"):
        sid = solution(client, net, title)
        move(client, net.host, "solution", sid, net.workflow["id"], "business_review")
    for who in (net.host, net.a):
        page = signed_in(new_browser, who).page("/board?kind=solution")
        assert f'<option value="{net.workflow["id"]}" selected>' in page.html
        assert "Business Review" in page.html
        assert "Not staged" not in page.html
    # a company's own workflow wins when it covers more of the records the viewer sees
    own = workflow(client, net.a, template="standard_pipeline")
    rid = record(client, net.a, "opportunity", "Own deal")
    browser = signed_in(new_browser, net.a)
    page = browser.page("/board?kind=opportunity")
    # "My company's stages" (the blank choice, first): its own workflow, no program's
    assert f'<option value="{own["id"]}">' in page.html
    choice = page.root.by_id("f-workflow-id")
    assert choice is not None
    assert [o.attrs["value"] for o in choice.iter("option") if "selected" in o.attrs] == []
    assert f"card-{rid}" in page.html
    # the choice stays the viewer's: their own stages on the solution board
    mine = browser.page("/board?kind=solution&workflow_id=")
    assert f'<option value="{net.workflow["id"]}" selected>' not in mine.html
    assert 'id="col-business_review"' not in mine.html
    assert "Joint stage: Business Review" in mine.html  # the label, not the key


def test_a_board_never_opens_on_a_program_workflow_the_viewer_cannot_see(
    client: TestClient, inbox: Inbox, new_browser: Callable[[], Browser]
) -> None:
    net = network(client, inbox)
    solution(client, net, "Marketplace listing")
    outsider = make_company(client, "Outsider")
    make_partnership(client, net.host, outsider)
    sid = record(client, net.host, "solution", "Outsider's view")
    join(client, net.host, "solution", sid, outsider)
    page = signed_in(new_browser, outsider).page("/board?kind=solution")
    assert net.workflow["id"] not in page.html
    assert "Business Review" not in page.html
    assert "Outsider&#39;s view" in page.html or "Outsider's view" in page.html
