"""Labels, not keys: stages, moves, roles and statuses as a partner manager reads them, and the
approvals inbox and record panel showing them for the joint-solution flow."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from coterie.workflows import labels
from coterie.workflows.definitions import TEMPLATES
from coterie.workflows.stages import DEFAULT_PIPELINE
from tests.fixtures.smtp import Inbox
from tests.fixtures.workflows import move
from tests.web.conftest import Browser
from tests.web.test_network_pages import signed_in
from tests.workflows.test_joint_solution import network, solution

JOINT = labels.names_of(TEMPLATES["joint_solution"]["stages"])


def test_stages_read_as_their_names_and_unknown_keys_as_words() -> None:
    pipeline = labels.names_of(DEFAULT_PIPELINE)
    assert labels.move_label(pipeline, "propose", "qualify") == "Propose → Qualify"
    assert labels.move_label(pipeline, None, "won") == "Not staged → Closed won"
    assert labels.stage_label(JOINT, "partner_approval") == "Partner Approval"
    assert labels.stage_label(JOINT, "execution") == "Execution"
    # a key no definition names (legacy data) reads as words, never as the key
    assert labels.stage_label(JOINT, "legal_review") == "Legal review"
    assert labels.stage_label(JOINT, None) == "Not staged"
    assert labels.role_label("manager") == "Manager"
    assert labels.status_label("pending") == "Waiting"
    assert labels.words("") == ""


def test_the_inbox_and_the_panel_show_stage_names_not_keys(
    client: TestClient, inbox: Inbox, new_browser: Callable[[], Browser]
) -> None:
    net = network(client, inbox)
    sid = solution(client, net, "Marketplace listing", customer_name="Acme Bank")
    wf = net.workflow["id"]
    move(client, net.host, "solution", sid, wf, "business_review")
    move(client, net.host, "solution", sid, wf, "approval")
    asked = move(client, net.host, "solution", sid, wf, "partner_approval")
    assert asked["move"]["status"] == "pending"

    manager = signed_in(new_browser, net.host_manager)
    page = manager.page("/approvals")
    assert "Approval → <strong>Partner Approval</strong>" in page.html
    assert "partner_approval" not in page.html
    assert "needs a manager" in page.html

    panel = manager.client.get(
        f"/solutions/{sid}/workflow-panel",
        headers={"HX-Request": "true"},
    )
    assert panel.status_code == 200, panel.text[:1000]
    assert "Approval → Partner Approval" in panel.text
    assert "Waiting" in panel.text
    assert "partner_approval" not in panel.text.replace('value="partner_approval"', "")
