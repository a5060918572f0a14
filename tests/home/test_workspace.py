"""The home workspace's sections, read as the signed-in user: what each shows, what the gate
keeps out (a partner's private amount, a record the user cannot see), "hide private fields", and
a statement count that does not grow with partners and records."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from coterie.auth import service
from coterie.auth.principal import Actor
from coterie.home import pipeline, waiting, workspace
from coterie.models.vocabulary import TokenKind
from tests.fixtures.builders import Member, make_colleague, make_company, make_partnership
from tests.fixtures.cosell import fill, join, plan, record, template
from tests.fixtures.pipeline import make_lead, nominate
from tests.fixtures.records import invite
from tests.fixtures.smtp import Inbox
from tests.fixtures.statements import statements
from tests.fixtures.workflows import move, workflow
from tests.web.conftest import Browser
from tests.web.html import parse

OPP = "opportunity"
TODAY = date(2030, 2, 15)  # a given clock: the services take "today", never read it


def money(value: str, currency: str = "USD") -> dict[str, str]:
    return {"value": value, "currency": currency}


@contextmanager
def acting(app: FastAPI, member: Member) -> Iterator[Actor]:
    """`member` as the services see a signed-in user (a fresh session, rolled back after)."""
    session = app.state.session_factory()
    try:
        actor = service.authenticate(session, member.token, {TokenKind.LOGIN})
        assert actor is not None
        yield actor
    finally:
        session.rollback()
        session.close()


def _hide_private(client: TestClient, member: Member) -> None:
    response = client.patch(
        "/api/v1/me/preferences", json={"hide_private_fields": True}, headers=member.headers
    )
    assert response.status_code == 200, response.text


def _deals(client: TestClient) -> tuple[Member, Member, Member]:
    """Me with one partner: my open deal shared with it, a won one, one of my own, the
    partner's deal I joined, and a stranger's deal I never see."""
    me = make_company(client, "Pipeline Viewer")
    partner = make_company(client, "Pipeline Partner")
    stranger = make_company(client, "Pipeline Stranger")
    make_partnership(client, me, partner)
    template(client, partner, OPP, amount="private")
    shared = record(client, me, OPP, "Viewer open deal", amount=money("5000"), stage="develop")
    join(client, me, OPP, shared, partner)
    fill(client, partner, OPP, shared, amount=money("777111"))  # the partner's, private
    won = record(
        client,
        me,
        OPP,
        "Viewer won deal",
        amount=money("9000"),
        stage="won",
        close_date="2030-01-20",
    )
    join(client, me, OPP, won, partner)
    record(client, me, OPP, "Viewer solo deal", amount=money("300"), stage="qualify")
    theirs = record(client, partner, OPP, "Partner invites viewer", amount=money("888222"))
    join(client, partner, OPP, theirs, me)
    record(client, stranger, OPP, "Stranger deal", amount=money("123456"))
    return me, partner, stranger


def test_pipeline_sums_my_open_deals_by_partner_and_never_a_partner_private_amount(
    client: TestClient, app: FastAPI
) -> None:
    me, partner, _ = _deals(client)
    plan(client, me, "Viewer and partner plan", partner)

    with acting(app, me) as actor:
        pipe = pipeline.open_pipeline(actor.session, actor)
        space = workspace.build(actor.session, actor, TODAY)

    assert pipe.deals == 3  # the won deal is not open; the partner's counts (my stage is empty)
    assert pipe.amount == f"{pipe.currency} 5,300"
    rows = {row.name: (row.deals, row.amount) for row in pipe.by_partner}
    assert rows == {
        "Pipeline Partner": (2, f"{pipe.currency} 5,000"),
        "No partner": (1, f"{pipe.currency} 300"),
    }
    assert [d.title for d in pipe.top] == [
        "Viewer open deal",
        "Viewer solo deal",
        "Partner invites viewer",
    ]
    assert pipe.top[0].partners == ["Pipeline Partner"]
    assert pipe.top[0].stage == "Develop"  # the stage's name, not its key
    shown = repr(space)
    # amounts as the page writes them (a bare "777" could be part of an id)
    for secret in ("777,111", "888,222", "123,456", "Stranger deal"):
        assert secret not in shown, secret

    [row] = space.health
    assert row.name == "Pipeline Partner"
    assert (row.open_deals, row.open_amount) == (2, f"{pipe.currency} 5,000")
    assert row.won_this_quarter == 1  # closed 20 Jan 2030, in the quarter of 15 Feb 2030
    assert row.joint_plans == 1


def test_won_this_quarter_follows_the_given_day(client: TestClient, app: FastAPI) -> None:
    me, _partner, _ = _deals(client)
    with acting(app, me) as actor:
        in_q1 = workspace.build(actor.session, actor, date(2030, 3, 31))
        in_q2 = workspace.build(actor.session, actor, date(2030, 4, 1))
    assert [h.won_this_quarter for h in in_q1.health] == [1]
    assert [h.won_this_quarter for h in in_q2.health] == [0]  # the January win is past


def test_hide_private_fields_hides_my_own_private_amounts_on_home(
    client: TestClient, app: FastAPI, new_browser: Callable[[], Browser]
) -> None:
    me, _, _ = _deals(client)
    template(client, me, OPP, amount="private", stage="participants")
    browser = new_browser()
    browser.login(me.email)
    before = browser.page("/").main_text
    assert "5,300" in before
    assert "5,000" in before

    _hide_private(client, me)
    with acting(app, me) as actor:
        pipe = pipeline.open_pipeline(actor.session, actor)
    assert not pipe.amount_visible
    assert pipe.amount == "—"
    assert {row.amount for row in pipe.by_partner} == {"—"}
    assert {deal.amount for deal in pipe.top} == {"—"}
    assert pipe.deals == 3  # the deals still count

    after = browser.page("/").main_text
    for value in ("5,300", "5,000", "USD 300", "9,000"):
        assert value not in after, value
    assert "Your amounts are hidden while private fields are hidden." in after


def _task(client: TestClient, who: Member, record_id: str, title: str, **body: Any) -> None:
    response = client.post(
        f"/api/v1/opportunities/{record_id}/tasks",
        json={"title": title, "owner_user_id": who.user_id, **body},
        headers=who.headers,
    )
    assert response.status_code == 201, response.text


def test_tasks_due_are_mine_overdue_first_then_by_date(client: TestClient, app: FastAPI) -> None:
    me = make_company(client, "Task Owner")
    partner = make_company(client, "Task Partner")
    make_partnership(client, me, partner)
    deal = record(client, me, OPP, "Deal with tasks")
    join(client, me, OPP, deal, partner)
    _task(client, me, deal, "Book the QBR", due_date="2030-02-20")
    _task(client, me, deal, "Someday maybe")
    _task(client, me, deal, "Send the proposal", due_date="2030-02-10")
    _task(client, partner, deal, "Partner's own task", due_date="2030-02-01", shared=True)
    hidden = record(client, partner, OPP, "Partner deal I do not see")
    _task(client, partner, hidden, "Hidden task", due_date="2030-02-01")

    with acting(app, me) as actor:
        due = waiting.tasks_due(actor.session, actor, TODAY)
    assert [(t.title, t.overdue, t.due_date) for t in due.shown] == [
        ("Send the proposal", True, date(2030, 2, 10)),
        ("Book the QBR", False, date(2030, 2, 20)),
        ("Someday maybe", False, None),
    ]
    assert (due.total, due.overdue) == (3, 1)
    assert {t.record_title for t in due.shown} == {"Deal with tasks"}
    assert all(t.record_url == f"/opportunities/{deal}" for t in due.shown)


def test_approvals_waiting_show_stage_names_for_the_roles_that_decide(
    client: TestClient, app: FastAPI, inbox: Inbox
) -> None:
    me = make_company(client, "Approving Co")
    seller = make_colleague(client, me, "member", inbox=inbox)
    wf = workflow(
        client,
        me,
        kind=OPP,
        name="Discount desk",
        stages=[
            {"key": "negotiating", "name": "Negotiation"},
            {"key": "closed", "name": "Closed won", "category": "won"},
        ],
        transitions=[
            {
                "from": "negotiating",
                "to": "closed",
                "approvals": [{"company": "host", "role": "manager"}],
            }
        ],
    )
    deal = record(client, seller, OPP, "Deal needing a discount")
    fill(client, seller, OPP, deal, stage="negotiating")
    move(client, seller, OPP, deal, wf["id"], "closed")

    with acting(app, me) as actor:
        approvals = waiting.approvals_waiting(actor.session, actor)
    assert approvals.total == 1
    [item] = approvals.shown
    assert (item.record_title, item.from_stage, item.to_stage) == (
        "Deal needing a discount",
        "Negotiation",
        "Closed won",
    )
    assert item.workflow_name == "Discount desk"
    assert item.record_url == f"/opportunities/{deal}"

    with acting(app, seller) as actor:  # a member's role does not decide it
        assert waiting.approvals_waiting(actor.session, actor).total == 0


def test_invitations_and_nominations_waiting(client: TestClient, app: FastAPI) -> None:
    me = make_company(client, "Invited Co")
    partner = make_company(client, "Inviting Partner")
    suitor = make_company(client, "Suitor Co")
    make_partnership(client, me, partner)
    make_partnership(client, suitor, me, accept=False)
    offered = record(client, partner, OPP, "Join our deal", amount=money("4242"))
    invite(client, partner, offered, me)
    lead = make_lead(client, partner, "A lead for you", customer_name="Lead Customer")
    nominate(client, partner, lead, me)

    with acting(app, me) as actor:
        space = workspace.build(actor.session, actor, TODAY)
    assert [p.partner.name for p in space.incoming] == ["Suitor Co"]
    assert [(i.title, i.invited_by_company_name) for i in space.invitations.records] == [
        ("Join our deal", "Inviting Partner")
    ]
    assert [(n.title, n.nominated_by_company_name) for n in space.invitations.nominations] == [
        ("A lead for you", "Inviting Partner")
    ]
    assert space.waiting_count == 3
    assert "4,242" not in repr(space)


def test_recent_activity_shows_what_i_may_see_on_my_records(
    client: TestClient, app: FastAPI
) -> None:
    me, _partner, _stranger = _deals(client)
    with acting(app, me) as actor:
        recent = workspace.build(actor.session, actor, TODAY).recent
    assert recent, "no activity"
    assert len(recent) <= 10
    assert [r.at for r in recent] == sorted((r.at for r in recent), reverse=True)
    titles = {r.record_title for r in recent}
    assert "Stranger deal" not in titles
    assert titles <= {
        "Viewer open deal",
        "Viewer won deal",
        "Viewer solo deal",
        "Partner invites viewer",
    }
    text = " ".join(r.text for r in recent)
    assert "777,111" not in text
    assert "888,222" not in text
    assert all(r.url and r.url.startswith("/opportunities/") for r in recent)
    assert all("_" not in r.text.split(":")[0] for r in recent)  # labels, not keys


def _partner_with_deals(client: TestClient, me: Member, n: int, deals: int) -> None:
    partner = make_company(client, f"Counted Partner {n}")
    make_partnership(client, me, partner)
    for d in range(deals):
        deal = record(client, me, OPP, f"Counted deal {n}.{d}", amount=money(str(100 + d)))
        if d % 2 == 0:
            join(client, me, OPP, deal, partner)
        theirs = record(client, partner, OPP, f"Their deal {n}.{d}", amount=money("50"))
        join(client, partner, OPP, theirs, me)
    plan(client, me, f"Counted plan {n}", partner)


def test_home_runs_as_many_statements_for_five_partners_and_fifty_records_as_for_one(
    client: TestClient, engine: Engine, new_browser: Callable[[], Browser]
) -> None:
    me = make_company(client, "Counted Viewer")
    _partner_with_deals(client, me, 1, 2)
    browser = new_browser()
    browser.login(me.email)
    browser.page("/")  # warm caches (templates) as a running server has them
    with statements(engine) as small:
        first = browser.page("/")
    for n in range(2, 6):
        _partner_with_deals(client, me, n, 5)
    browser.page("/")
    with statements(engine) as large:
        busy = browser.page("/")

    partners = busy.root.by_id("partners-count")
    assert partners is not None
    assert partners.text == "5"
    assert first.root.by_id("partners-count").text == "1"  # type: ignore[union-attr]
    health = busy.root.find("table", class_="table table-compact health-table")
    assert health is not None
    assert len(health.find_all("tr")) == 6
    assert len(large) == len(small), (len(small), len(large))
    assert len(large) < 80, len(large)


def test_home_page_sections_and_empty_states_for_a_new_company(browser: Browser) -> None:
    browser.signup("Brand New Co")
    page = parse(browser.get("/").text)
    for section, link in (
        ("pipeline", "/opportunities#new-record"),
        ("tasks", "/settings/workflows"),
        ("waiting", "/directory"),
        ("approvals", "/settings/workflows"),
        ("partners", "/directory"),
        ("activity", "/opportunities"),
    ):
        box = page.root.by_id(section)
        assert box is not None, section
        empty = box.find("div", class_="empty")
        assert empty is not None, section
        assert any(a.attrs.get("href") == link for a in empty.find_all("a")), section
    assert page.root.by_id("get-started") is not None
