"""The demo's co-selling story, as its users find it after `coterie demo load` (the API, signed
in as demo users, on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from coterie import migrate
from coterie.app import create_app
from coterie.config import Settings
from coterie.db import make_engine, utcnow
from coterie.demo import cosell, ideas, network
from coterie.models import AuditEvent, Record
from coterie.models.activity import Notification, RecordChange
from coterie.models.outbox import OutboxMessage
from coterie.models.workflow import WorkflowMove
from tests.conftest import make_settings
from tests.fixtures.databases import KINDS, fresh_database
from tests.web.conftest import Browser

API = "/api/v1"


@dataclass
class Demo:
    app: FastAPI
    client: TestClient
    engine: Engine
    settings: Settings
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)

    def headers(self, email: str) -> dict[str, str]:
        if email not in self.tokens:
            response = self.client.post(
                f"{API}/auth/token", json={"email": email, "password": network.DEMO_PASSWORD}
            )
            assert response.status_code == 200, response.text
            self.tokens[email] = {"Authorization": f"Bearer {response.json()['access_token']}"}
        return self.tokens[email]

    def get(self, email: str, path: str) -> Any:
        response = self.client.get(f"{API}{path}", headers=self.headers(email))
        assert response.status_code == 200, response.text
        return response.json()

    def record(self, email: str, plural: str, title: str) -> dict[str, Any]:
        """The record of that title as `email` sees it (fails when they do not see it)."""
        found = self.find(email, plural, title)
        assert found is not None, f"{email} does not see {title}"
        return found

    def find(self, email: str, plural: str, title: str) -> dict[str, Any] | None:
        items = self.get(email, f"/{plural}?limit=200")["items"]
        return next((r for r in items if r["title"] == title), None)

    def plan_id(self, email: str = cosell.MARCUS) -> str:
        return str(self.record(email, "plans", cosell.PLAN_TITLE)["id"])


def _serve(url: str, data_dir: Path) -> Iterator[Demo]:
    migrate.upgrade(url)
    settings = make_settings(url, data_dir, 0, smtp_host="")
    network.load(settings)
    app = create_app(settings)
    engine = make_engine(url)
    try:
        with TestClient(app) as client:
            yield Demo(app=app, client=client, engine=engine, settings=settings)
    finally:
        engine.dispose()
        app.state.engine.dispose()


@pytest.fixture(scope="module", params=KINDS)
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Demo]:
    """The demo loaded once per module and database kind; the tests here only read it."""
    directory = tmp_path_factory.mktemp("demo")
    with fresh_database(request.param, directory) as url:
        yield from _serve(url, directory / "data")


@pytest.fixture
def fresh_demo(empty_database_url: str, tmp_path: Path) -> Iterator[Demo]:
    """A demo of its own, for a test that changes it."""
    yield from _serve(empty_database_url, tmp_path / "data")


def space(record: dict[str, Any], company_name: str) -> dict[str, Any]:
    """The fields of `company_name`'s space on the record, as the reader sees them."""
    fields: dict[str, Any] = next(s for s in record["spaces"] if s["company_name"] == company_name)[
        "fields"
    ]
    return fields


def amount(fields: dict[str, Any]) -> Decimal:
    return Decimal(fields["amount"]["value"])


# -- shared opportunities: each company's own numbers, shared or private -----------------------


def test_a_partner_sees_what_each_company_shares_and_nothing_private(demo: Demo) -> None:
    as_nimbus = demo.record(cosell.MARCUS, "opportunities", cosell.O_HARBOR)
    relay = space(as_nimbus, "Relay CRM")
    assert amount(relay) == 420_000
    assert relay["stage"] == "propose"
    assert "close_date" in relay  # Relay shares its close dates with Nimbus
    assert relay["forecast_category"] == "best_case"
    meridian = space(as_nimbus, "Meridian Consulting Group")
    assert meridian["stage"] == "develop"
    assert "close_date" in meridian
    assert "amount" not in meridian  # Meridian's amount is private
    mine = space(as_nimbus, "Nimbus Cloud")
    assert amount(mine) == 180_000
    assert mine["close_date"] == (utcnow().date() + timedelta(days=60)).isoformat()

    as_meridian = demo.record(cosell.FIONA, "opportunities", cosell.O_HARBOR)
    relay = space(as_meridian, "Relay CRM")
    assert amount(relay) == 420_000
    assert "close_date" not in relay  # shared with Nimbus only
    assert "forecast_category" not in relay
    assert amount(space(as_meridian, "Meridian Consulting Group")) == 310_000

    assert demo.find(cosell.MARCUS, "opportunities", cosell.O_PINECREST) is None  # not on it
    assert demo.find(cosell.SOFIA, "opportunities", cosell.O_HARBOR) is not None


def test_an_internal_note_stays_in_its_company(demo: Demo) -> None:
    record_id = demo.record(cosell.DIEGO, "opportunities", cosell.O_HARBOR)["id"]
    path = f"/opportunities/{record_id}/comments"
    relay = demo.get(cosell.MEGAN, path)["items"]
    nimbus = demo.get(cosell.MARCUS, path)["items"]
    assert any(c["audience"] == "company" for c in relay)
    assert all(c["audience"] == "participants" for c in nimbus)
    assert len(nimbus) == len(relay) - 1 >= 1


# -- the program, its plan, goals and accounts ------------------------------------------------


def test_the_program_has_a_joint_workflow_and_the_plan(demo: Demo) -> None:
    program = demo.record(cosell.EITAN, "programs", cosell.PROGRAM_TITLE)
    overview = demo.get(cosell.EITAN, f"/programs/{program['id']}/overview")
    assert overview["profile"]["status"] == "active"
    assert {p["company_name"] for p in overview["participants"]} == {
        "Nimbus Cloud",
        "Relay CRM",
        "Meridian Consulting Group",
        "Bastion Security",
    }
    assert overview["plans"] == []  # Bastion is not on the plan
    plans = demo.get(cosell.DIEGO, f"/programs/{program['id']}/overview")["plans"]
    assert [p["title"] for p in plans] == [cosell.PLAN_TITLE]
    workflows = demo.get(cosell.EITAN, f"/workflows?program_id={program['id']}")
    assert [w["name"] for w in workflows] == ["Joint solution"]


def goals_by_name(demo: Demo, email: str) -> dict[tuple[str, str | None], dict[str, Any]]:
    items = demo.get(email, f"/plans/{demo.plan_id(email)}/goals")["items"]
    return {(g["metric"], g["company_name"]): g for g in items}


def test_the_plans_goals_show_progress(demo: Demo) -> None:
    goals = goals_by_name(demo, cosell.MARCUS)
    assert len(goals) == 5
    pipeline = goals[("pipeline_value", None)]["progress"]
    # Relay's open Harbor Federal (420k) and Lakeshore (90k): Nimbus's own Cobalt was lost
    assert Decimal(pipeline["achieved"]) == 510_000
    assert pipeline["hidden_count"] == 0
    assert pipeline["percent"] > 0
    assert Decimal(goals[("closed_revenue", None)]["progress"]["achieved"]) == 260_000
    assert Decimal(goals[("closed_revenue", "Relay CRM")]["progress"]["achieved"]) == 260_000
    assert Decimal(goals[("lead_count", "Nimbus Cloud")]["progress"]["achieved"]) == 2

    # Meridian sees no Relay close date: Relay's open deal counts as "not shared with you"
    goals = goals_by_name(demo, cosell.FIONA)
    pipeline = goals[("pipeline_value", None)]["progress"]
    assert pipeline["hidden_count"] >= 1
    assert Decimal(pipeline["achieved"]) == 275_000  # its own Pinecrest Bank
    count = goals[("opportunity_count", "Meridian Consulting Group")]["progress"]
    assert Decimal(count["achieved"]) == 2


def test_the_plan_links_pipeline_and_target_accounts(demo: Demo) -> None:
    plan_id = demo.plan_id(cosell.DIEGO)
    links = demo.get(cosell.DIEGO, f"/plans/{plan_id}/records")["items"]
    titles = {(link["role"], link["record"]["title"]) for link in links}
    assert ("target_account", cosell.HARBOR) in titles
    assert ("target_account", cosell.PINECREST) in titles
    for title in (cosell.O_HARBOR, cosell.O_PINECREST, cosell.O_NORTHWIND, cosell.O_LAKESHORE):
        assert ("pipeline", title) in titles
    assert ("pipeline", cosell.L_BAYVIEW) in titles
    profile = demo.get(cosell.DIEGO, f"/plans/{plan_id}/profile")
    assert profile["program_title"] == cosell.PROGRAM_TITLE
    owners = {o["company_name"]: o["user_name"] for o in profile["owners"]}
    assert owners == {
        "Nimbus Cloud": "Marcus Oyelaran",
        "Relay CRM": "Diego Alvarez",
        "Meridian Consulting Group": "Fiona Gallagher",
    }


def test_the_target_account_has_a_joint_account_plan(demo: Demo) -> None:
    account = demo.record(cosell.RAJESH, "accounts", cosell.HARBOR)
    plan = demo.get(cosell.RAJESH, f"/accounts/{account['id']}/plan")
    assert plan["objectives"]
    assert {s["owner_name"] for s in plan["next_steps"]} == {
        "Marcus Oyelaran",
        "Rajesh Iyer",
        "Diego Alvarez",
    }
    rollup = demo.get(cosell.DIEGO, f"/accounts/{account['id']}/rollup")
    assert rollup["count"] == 1


# -- leads, nominations, registrations ---------------------------------------------------------


def test_nominations_were_accepted_rejected_converted_and_one_waits(demo: Demo) -> None:
    pending = demo.get(cosell.FIONA, "/leads/nominations?status=pending")["items"]
    assert [n["title"] for n in pending] == [cosell.L_REDWOOD]
    rejected = demo.get(cosell.CHARLOTTE, "/leads/nominations?status=rejected")["items"]
    assert [(n["title"], n["reason_code"]) for n in rejected] == [
        (cosell.L_REDWOOD, "already_engaged")
    ]
    assert rejected[0]["reason"]
    accepted = demo.get(cosell.MEGAN, "/leads/nominations?status=accepted")["items"]
    assert {n["title"] for n in accepted} == {cosell.L_BAYVIEW, cosell.L_LAKESHORE}

    lead = demo.record(cosell.SOFIA, "leads", cosell.L_LAKESHORE)
    assert lead["joint_stage"] == "converted"
    converted = demo.record(cosell.SOFIA, "opportunities", cosell.O_LAKESHORE)
    assert converted["source_record_id"] == lead["id"]
    assert converted["source_company"]["name"] == "Nimbus Cloud"


def test_one_registration_is_approved_and_one_waits_for_approval(demo: Demo) -> None:
    waiting = demo.get(cosell.EITAN, "/registrations?role=registered_to&status=submitted")
    assert [r["record_title"] for r in waiting["items"]] == [cosell.O_CORDILLERA]
    approved = demo.get(cosell.FIONA, "/registrations?role=registering&status=approved")
    (registration,) = approved["items"]
    assert registration["record_title"] == cosell.O_PINECREST
    assert registration["registered_to_company_name"] == "Relay CRM"
    expires = utcnow().date() + timedelta(days=90 - 17)
    assert registration["expires_on"] == expires.isoformat()


# -- workflows, approvals, notifications --------------------------------------------------------


def test_the_pending_move_is_in_the_approvers_inbox(demo: Demo) -> None:
    inbox = demo.get(cosell.MARCUS, "/workflow-approvals?status=pending")
    assert [(i["record_title"], i["to_stage"]) for i in inbox] == [
        (cosell.S_RELAY, "partner_approval")
    ]
    assert demo.get(cosell.SOFIA, "/workflow-approvals?status=pending") == []  # a member
    assert demo.get(cosell.DIEGO, "/workflow-approvals?status=pending") == []


def test_the_approved_joint_solution_is_in_execution(demo: Demo) -> None:
    solution = demo.record(cosell.NOA, "solutions", cosell.S_BASTION)
    assert solution["joint_stage"] == "execution"
    base = f"/solutions/{solution['id']}/workflows"
    (state,) = demo.get(cosell.NOA, base)
    assert state["workflow"]["scope"] == "program"
    history = demo.get(cosell.NOA, f"{base}/{state['workflow']['id']}/history")
    assert [m["to_stage"] for m in history] == [
        "execution",
        "partner_approval",
        "approval",
        "business_review",
    ]


def test_relay_moves_its_opportunities_through_its_own_workflow(demo: Demo) -> None:
    record = demo.record(cosell.DIEGO, "opportunities", cosell.O_NORTHWIND)
    states = demo.get(cosell.DIEGO, f"/opportunities/{record['id']}/workflows")
    assert [(s["workflow"]["scope"], s["stage"]["key"]) for s in states] == [("company", "won")]
    assert demo.get(cosell.MARCUS, f"/opportunities/{record['id']}/workflows") == []
    tasks = demo.get(cosell.DIEGO, f"/opportunities/{record['id']}/tasks")
    assert any(t["title"] == "Send the proposal" for t in tasks)


def test_demo_users_have_notifications(demo: Demo) -> None:
    marcus = demo.get(cosell.MARCUS, "/notifications?unread=true&limit=100")["items"]
    events = {n["event"] for n in marcus}
    assert {"mention", "approval_requested"} <= events
    diego = demo.get(cosell.DIEGO, "/notifications?limit=100")["items"]
    assert {"mention", "registration"} <= {n["event"] for n in diego}
    with Session(demo.engine) as session:  # in the app only: fictional people get no e-mail
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


# -- the weekly pipeline review has this week's movements -------------------------------------


def review(demo: Demo, email: str) -> dict[str, dict[str, list[str]]]:
    """company name -> movement -> titles."""
    data = demo.get(email, f"/plans/{demo.plan_id(email)}/review")
    return {
        company["company_name"]: {
            section["movement"]: [item["title"] for item in section["items"]]
            for section in company["sections"]
            if section["items"]
        }
        for company in data["companies"]
    }


def test_the_weekly_review_shows_this_weeks_movements(demo: Demo) -> None:
    nimbus = review(demo, cosell.MARCUS)
    assert nimbus["Relay CRM"]["advanced"] == [cosell.O_HARBOR]
    assert nimbus["Relay CRM"]["won"] == [cosell.O_NORTHWIND]
    assert nimbus["Relay CRM"]["new"] == [cosell.O_LAKESHORE]
    assert nimbus["Nimbus Cloud"]["pulled_in"] == [cosell.O_HARBOR]
    assert nimbus["Nimbus Cloud"]["lost"] == [cosell.O_COBALT]
    assert "Meridian Consulting Group" not in nimbus or not nimbus["Meridian Consulting Group"]

    relay = review(demo, cosell.DIEGO)
    assert relay["Relay CRM"]["slipped"] == [cosell.O_PINECREST]
    # Meridian never sees Relay's close dates: no slipped line for it
    meridian = review(demo, cosell.FIONA)
    assert "slipped" not in meridian.get("Relay CRM", {})
    assert meridian["Meridian Consulting Group"]["value_changed"] == [cosell.O_PINECREST]


def test_the_story_is_backdated_consistently(demo: Demo) -> None:
    now = utcnow()
    week_ago = now - timedelta(days=7)
    with Session(demo.engine) as session:
        changes = list(session.scalars(select(RecordChange)))
        assert all(c.at <= now for c in changes)
        assert any(c.at >= week_ago for c in changes)
        assert any(c.at < now - timedelta(days=30) for c in changes)
        records = list(session.scalars(select(Record)))
        assert all(r.created_at <= r.updated_at <= now for r in records)
        assert min(r.created_at for r in records) < now - timedelta(days=100)
        for moved in session.scalars(select(WorkflowMove)):
            assert moved.completed_at is None or moved.requested_at <= moved.completed_at
        assert all(n.created_at <= now for n in session.scalars(select(Notification)))
        actions = set(session.scalars(select(AuditEvent.action)))
    assert {
        "lead.nominated",
        "lead.converted",
        "registration.approved",
        "workflow.move_requested",
        "comment.created",
        "plan.goal_created",
    } <= actions


# -- the pages a newcomer opens ----------------------------------------------------------------


def test_demo_users_find_the_story_on_their_pages(demo: Demo) -> None:
    plan = demo.plan_id()
    harbor = demo.record(cosell.DIEGO, "opportunities", cosell.O_HARBOR)["id"]
    tour = {
        cosell.MARCUS: {
            f"/plans/{plan}/review": cosell.O_NORTHWIND,
            f"/plans/{plan}/cosell": cosell.HARBOR,
            "/approvals": cosell.S_RELAY,
            "/notifications": "mentioned you",
            "/board?kind=opportunity": cosell.O_HARBOR,
        },
        cosell.DIEGO: {
            f"/opportunities/{harbor}": "Meridian Consulting Group",
            f"/opportunities/{harbor}/activity": "security review",
        },
        cosell.FIONA: {"/leads/nominations": cosell.L_REDWOOD},
        cosell.EITAN: {"/registrations": cosell.O_CORDILLERA},
    }
    for email, pages in tour.items():
        with TestClient(demo.app) as client:
            browser = Browser(client)
            assert browser.login(email, network.DEMO_PASSWORD).status_code == 200
            for path, text in pages.items():
                fragment = path.endswith(("/cosell", "/activity"))  # loaded by htmx
                response = browser.get(path, headers={"HX-Request": "true"} if fragment else {})
                assert response.status_code == 200, (email, path, response.text[:500])
                assert text in response.text, (email, path)


# -- what a demo user does next ----------------------------------------------------------------


def test_the_approver_approves_the_pending_move(fresh_demo: Demo) -> None:
    demo = fresh_demo
    (item,) = demo.get(cosell.MARCUS, "/workflow-approvals?status=pending")
    response = demo.client.post(
        f"{API}/workflow-approvals/{item['approval']['id']}/approve",
        json={"comment": "Approved."},
        headers=demo.headers(cosell.MARCUS),
    )
    assert response.status_code == 200, response.text
    solution = demo.record(cosell.DIEGO, "solutions", cosell.S_RELAY)
    assert solution["joint_stage"] == "partner_approval"
    events = {n["event"] for n in demo.get(cosell.DIEGO, "/notifications?unread=true")["items"]}
    assert "approval_decided" in events


def test_the_program_has_ideas_open_declined_and_accepted(demo: Demo) -> None:
    program = demo.record(cosell.MARCUS, "programs", cosell.PROGRAM_TITLE)
    found = demo.get(cosell.MARCUS, f"/programs/{program['id']}/ideas")["items"]
    by_title = {i["title"]: i for i in found}
    assert by_title.keys() == {ideas.I_MIGRATION, ideas.I_WEBINARS, ideas.I_ZERO_TRUST}
    migration = by_title[ideas.I_MIGRATION]
    assert migration["status"] == "open"
    assert migration["endorsements"] == 2
    assert migration["can_triage"] is True
    assert by_title[ideas.I_WEBINARS]["status"] == "declined"
    assert "webinar series" in by_title[ideas.I_WEBINARS]["decline_reason"]
    accepted = by_title[ideas.I_ZERO_TRUST]
    solution = demo.get(cosell.MARCUS, f"/solutions/{accepted['record_id']}")
    assert solution["joint_stage"] == "business_review"
    # the field seller who proposed sees hers; the portfolio lists the new solution
    assert ideas.I_MIGRATION in {i["title"] for i in demo.get(cosell.MEGAN, "/ideas")["items"]}
    portfolio = demo.get(cosell.MARCUS, "/solutions/portfolio")["items"]
    assert ideas.I_ZERO_TRUST in {row["title"] for row in portfolio}
    # backdated with the story: proposed before today
    assert migration["created_at"] < utcnow().isoformat()[:10]


def test_the_summit_campaign_has_its_deals_and_the_solution_its_links(demo: Demo) -> None:
    summit = demo.record(cosell.MARCUS, "campaigns", cosell.C_SUMMIT)
    attributed = demo.get(cosell.MARCUS, f"/campaigns/{summit['id']}/records")["items"]
    titles = {item["title"] for item in attributed}
    # the converted Lakeshore lead's opportunity kept the lead's attribution
    assert {cosell.O_HARBOR, cosell.O_COBALT, cosell.O_LAKESHORE} <= titles
    assert cosell.L_LAKESHORE in titles
    influence = demo.get(cosell.MARCUS, f"/campaigns/{summit['id']}/influence")
    assert influence["opportunities"] == 3
    assert influence["pipeline"]
    # Relay is on the campaign and sees Nimbus's shared campaign fields, not its expectations
    seen = demo.record(cosell.DIEGO, "campaigns", cosell.C_SUMMIT)
    nimbus = next(s for s in seen["spaces"] if not s["is_mine"])
    assert nimbus["fields"]["channel"] == "event"
    assert "expected_pipeline" not in nimbus["fields"]
    # Meridian is not on the campaign: neither the campaign nor its title anywhere
    assert demo.find(cosell.RAJESH, "campaigns", cosell.C_SUMMIT) is None
    harbor = demo.record(cosell.RAJESH, "opportunities", cosell.O_HARBOR)
    shown = demo.get(cosell.RAJESH, f"/opportunities/{harbor['id']}/campaign")
    assert shown["items"] == []
    solution = demo.record(cosell.DIEGO, "solutions", cosell.S_RELAY)
    linked = demo.get(cosell.DIEGO, f"/solutions/{solution['id']}/records")["items"]
    assert {i["title"] for i in linked} == {
        cosell.O_HARBOR, cosell.O_NORTHWIND, cosell.PLAN_TITLE,
    }  # fmt: skip


def test_the_demo_fund_has_two_requests_in_different_states(demo: Demo) -> None:
    from coterie.demo import funds as demo_funds

    budgets = demo.get(cosell.MARCUS, "/funds/budgets")["items"]
    budget = next(b for b in budgets if b["name"] == demo_funds.BUDGET_NAME)
    assert (budget["total"], budget["committed"]) == ("60000.00", "10000.00")
    found = demo.get(cosell.MARCUS, f"/funds/requests?budget_id={budget['id']}")["items"]
    states = {r["activity"]: (r["status"], r["approved_amount"]) for r in found}
    assert states == {
        demo_funds.RELAY_ACTIVITY: ("approved", "10000.00"),
        demo_funds.MERIDIAN_ACTIVITY: ("submitted", None),
    }
    # Relay sees its own decision, not Nimbus's total, its note, or Meridian's request
    relay_view = demo.get(cosell.DIEGO, f"/funds/budgets/{budget['id']}")
    assert relay_view["total"] is None
    mine = demo.get(cosell.DIEGO, "/funds/requests")["items"]
    assert [r["activity"] for r in mine] == [demo_funds.RELAY_ACTIVITY]
    notes = demo.get(cosell.DIEGO, f"/funds/requests/{mine[0]['id']}/notes")["items"]
    assert notes == []
