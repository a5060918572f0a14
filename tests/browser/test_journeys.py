"""A partner manager's journeys in a real browser, as one story told in order.

Ada runs partnerships at Aurora Analytics (company A); Ben at Borealis Systems (company B).
A keeps canary values in private fields: an amount of 7,373,737.37 and a private note
"CANARY-PRIVATE-NOTE" on its opportunity, and an internal comment "CANARY-INTERNAL-NOTE". Every
HTML page, htmx fragment, JSON and CSV that Ben's browser receives is recorded, as are his
API export and e-mails, and none may contain a canary. With "hide private fields" on, Ada's own
pages lose them too.

Each journey is a function; each test runs one journey after the journeys before it (one story
per worker process, session-scoped). A journey that failed is not retried: the later ones skip.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.helpers import (
    FAILED,
    LiveServer,
    Visitor,
    amount_patterns,
    assert_nothing_leaked,
    body_text,
    canary_patterns,
)
from tests.fixtures.smtp import SmtpServer, link_in

pytestmark = pytest.mark.xdist_group("browser")

CANARY_AMOUNT = "7373737.37"
CANARY_NOTE = "CANARY-PRIVATE-NOTE"
CANARY_INTERNAL = "CANARY-INTERNAL-NOTE"
FIELD_CANARIES = [*amount_patterns("7373737"), *canary_patterns(CANARY_NOTE)]
CANARIES = [*FIELD_CANARIES, *canary_patterns(CANARY_INTERNAL)]
OPPORTUNITY = "Helios Bank: data platform rollout"
PLAN = "Aurora and Borealis FY27 co-sell"
B_AMOUNT = "250000"


@dataclass
class Story:
    a: Visitor
    b: Visitor
    smtp: SmtpServer
    done: set[str] = field(default_factory=set)
    attempted: set[str] = field(default_factory=set)
    plan_url: str = ""
    opportunity_url: str = ""
    drag_path: str = ""

    def run(self, journey: Callable[[Story], None]) -> None:
        """Run `journey` after every journey before it that has not run in this process yet
        (under `--dist loadgroup` they all ran already, in order, on this worker; under a plain
        `-n 2` the worker catches up). A journey that failed here is not tried twice."""
        for earlier in JOURNEYS[: JOURNEYS.index(journey) + 1]:
            name = earlier.__name__
            if name in self.done:
                continue
            if name in self.attempted:
                pytest.skip(f"an earlier journey failed: {name}")
            self.attempted.add(name)
            earlier(self)
            self.done.add(name)

    def assert_nothing_leaked_to_b(self) -> None:
        assert_nothing_leaked(self.b, self.smtp.inbox, CANARIES, "a canary reached the partner")


@pytest.fixture(scope="session")
def story(
    browser: Browser, live_server: LiveServer, smtp_server: SmtpServer, screenshots: Path
) -> Iterator[Story]:
    a = Visitor("Ada", browser, live_server.url, screenshots)
    b = Visitor("Ben", browser, live_server.url, screenshots, record=True)
    yield Story(a, b, smtp_server)
    a.close()
    b.close()


@pytest.fixture(autouse=True)
def _screenshot_on_failure(
    request: pytest.FixtureRequest, story: Story, screenshots: Path
) -> Iterator[None]:
    yield
    if request.node.stash.get(FAILED, False):
        for visitor in (story.a, story.b):
            with contextlib.suppress(Exception):  # the browser itself may be what failed
                visitor.shot(f"FAILED-{request.node.name}-{visitor.name}")


def _record_id(url: str) -> str:
    match = re.search(r"/(?:plans|opportunities)/([0-9a-f-]{36})", url)
    assert match, url
    return match.group(1)


# -- (a) sign up, invite a partner, the partner accepts ----------------------------------------


def journey_a_two_companies_sign_up_and_become_partners(story: Story) -> None:
    a, b = story.a, story.b
    a.sign_up("Aurora Analytics", "aurora-analytics.example", "Ada Lovelace", "ada@aurora.example")
    b.sign_up("Borealis Systems", "borealis-systems.example", "Ben Okafor", "ben@borealis.example")
    a.shot("01-home-new-company")

    # Ada finds Borealis in the directory and invites it
    a.go("/directory?q=Borealis")
    card = a.page.get_by_role("article", name="Borealis Systems")
    card.get_by_text("Invite to partner").click()
    card.get_by_label("Message to Borealis Systems").fill("Let's co-sell data platforms.")
    a.click(card.get_by_role("button", name="Send invitation"))
    expect(a.page.get_by_role("article", name="Borealis Systems")).to_contain_text(
        "Invitation sent"
    )
    a.shot("02-directory")

    # Ben's admin mailbox gets the request; its link leads to where he accepts
    mail = story.smtp.inbox.wait_for(b.email)
    assert "Aurora Analytics" in body_text(mail)
    link = link_in(mail, "/")
    assert link.startswith(a.base_url), link
    b.go(link)
    invitation = b.page.locator(".partnership", has_text="Aurora Analytics")
    expect(invitation).to_contain_text("Let's co-sell data platforms.")
    b.click(invitation.get_by_role("button", name="Accept"))
    expect(b.page.locator(".partnership", has_text="Aurora Analytics")).to_contain_text("Active")
    b.go("/network")
    expect(b.page.locator("#partners")).to_contain_text("Aurora Analytics")

    a.go("/network")
    partners = a.page.locator("#partners")
    expect(partners).to_contain_text("Borealis Systems")
    expect(partners).to_contain_text("Active")
    a.shot("03-network-owner")
    a.go("/")
    expect(a.page.get_by_role("region", name="My partners")).to_contain_text("Borealis Systems")
    a.shot("04-home-owner")
    story.assert_nothing_leaked_to_b()


# -- (b) templates with private canaries; a joint sales plan ----------------------------------


def _set_visibility(visitor: Visitor, kind: str, visibility: dict[str, str]) -> None:
    visitor.go(f"/settings/templates/{kind}")
    for label, mode in visibility.items():
        visitor.page.get_by_label(f"Who sees {label}", exact=True).select_option(label=mode)
    visitor.click(visitor.page.get_by_role("button", name="Save visibility"))
    expect(visitor.flash()).not_to_contain_text("error")


def journey_b_templates_keep_canaries_private_and_a_joint_plan_is_shared(story: Story) -> None:
    a, b = story.a, story.b
    everyone = "Every company on the record"
    # Ada: the amount stays private (the default), stage, close date and product are shared
    _set_visibility(
        a,
        "opportunity",
        {"Stage": everyone, "Close date": everyone, "Product / solution": everyone},
    )
    add = a.page.get_by_role("region", name="Add a custom field")
    add.get_by_label("Key").fill("private_note")
    add.get_by_label("Label", exact=True).fill("Private note")
    add.get_by_label("Type").select_option(label="Text")
    add.get_by_label("Who sees it").select_option(label="Private: only us")
    a.click(add.get_by_role("button", name="Add field"))
    fields = a.page.get_by_role("region", name=re.compile("Fields of your opportunity space"))
    expect(fields).to_contain_text("Private note")
    expect(a.page.get_by_label("Who sees Amount", exact=True)).to_have_value("private")
    a.shot("05-settings-templates-owner")

    # Ben shares his amount and stage with every company on a record
    _set_visibility(b, "opportunity", {"Amount": everyone, "Stage": everyone})
    expect(b.page.get_by_label("Who sees Amount", exact=True)).to_have_value("participants")

    # Ada creates the joint sales plan and invites Borealis
    a.go("/plans")
    a.page.locator("#new-record-link").click()  # opens its dialog
    form = a.page.locator("#new-record form")
    form.get_by_role("textbox", name="Plan name").fill(PLAN)
    form.get_by_role("textbox", name="Description").fill("Financial services, EMEA")
    a.click(a.page.get_by_role("button", name="Create joint sales plan"))
    expect(a.page.get_by_role("heading", level=1)).to_have_text(PLAN)
    story.plan_url = a.page.url
    a.settle()
    period = a.page.locator("#cosell-panel dt", has_text="Period").locator("xpath=..")
    expect(period).to_have_text(re.compile(r"Period\s*Not set"))  # no period yet
    a.page.get_by_label("Partner company").select_option(label="Borealis Systems")
    a.click(a.page.get_by_role("button", name="Invite", exact=True))
    expect(a.page.locator("#participants")).to_contain_text("Invited")

    # Ben sees only the title and who invited him, and accepts
    b.go("/plans")
    invitations = b.page.get_by_role("region", name=re.compile("Invitations"))
    expect(invitations).to_contain_text(PLAN)
    expect(invitations).to_contain_text("Invited by Aurora Analytics")
    b.click(invitations.get_by_role("button", name=f"Accept {PLAN}"))
    expect(b.page.get_by_role("heading", level=1)).to_have_text(PLAN)
    expect(b.page.locator("#participants")).to_contain_text("Active")
    story.assert_nothing_leaked_to_b()


# -- (c) share an opportunity; the partner fills its space ------------------------------------


def journey_c_opportunity_is_shared_and_the_partner_fills_its_space(story: Story) -> None:
    a, b = story.a, story.b
    a.go("/opportunities")
    a.page.locator("#new-record-link").click()  # opens its dialog
    form = a.page.locator("#new-record form")
    form.get_by_role("textbox", name="Title").fill(OPPORTUNITY)
    form.get_by_role("textbox", name="Customer", exact=True).fill("Helios Bank")
    a.field("Amount").fill(CANARY_AMOUNT)
    a.field("Stage").fill("qualify")
    a.field("Close date").fill("2027-03-31")
    a.field("Product / solution").fill("Aurora Lakehouse")
    a.field("Private note").fill(CANARY_NOTE)
    a.click(a.page.get_by_role("button", name="Create opportunity"))
    expect(a.page.get_by_role("heading", level=1)).to_have_text(OPPORTUNITY)
    story.opportunity_url = a.page.url
    mine = a.page.locator("#my-space")
    expect(mine).to_contain_text("7,373,737.37")
    expect(mine).to_contain_text(CANARY_NOTE)

    a.page.get_by_label("Partner company").select_option(label="Borealis Systems")
    a.click(a.page.get_by_role("button", name="Invite", exact=True))
    expect(a.page.locator("#participants")).to_contain_text("Invited")

    # the opportunity goes on the joint plan's pipeline
    a.go(story.plan_url)
    panel = a.page.locator("#cosell-panel")
    panel.get_by_label("Add a lead or opportunity").select_option(
        label=f"{OPPORTUNITY} (opportunity)"
    )
    panel.get_by_role("button", name="Add to plan").click()
    expect(a.page.locator("#cosell-panel")).to_contain_text("Pipeline on this plan 1")
    a.settle()
    a.shot("06-plan-owner")

    # Ben accepts and fills his own space; his amount is shared
    b.go("/opportunities")
    b.click(b.page.get_by_role("button", name=f"Accept {OPPORTUNITY}"))
    expect(b.page.get_by_role("heading", level=1)).to_have_text(OPPORTUNITY)
    b.click(b.page.get_by_role("link", name="Edit your space"))
    b.field("Amount").fill(B_AMOUNT)
    b.field("Stage").fill("Discovery")
    b.click(b.page.get_by_role("button", name="Save my space"))
    expect(b.page.locator("#my-space")).to_contain_text("250,000.00")
    partner_spaces = b.page.locator("#partner-spaces")
    expect(partner_spaces).to_contain_text("Aurora Lakehouse")  # what Ada shares
    expect(partner_spaces).to_contain_text("qualify")
    b.shot("07-record-partner")

    # Ada sees Ben's shared amount under Borealis's name
    a.go(story.opportunity_url)
    borealis = a.page.get_by_role("article", name="Borealis Systems")
    expect(borealis).to_contain_text("Amount")
    expect(borealis).to_contain_text("250,000.00")
    a.shot("08-record-owner")

    # Ben's view of the plan and its weekly review
    b.go(story.plan_url)
    expect(b.page.locator("#cosell-panel")).to_contain_text(OPPORTUNITY)
    b.shot("09-plan-partner")
    b.go(story.plan_url + "/review")
    aurora = b.page.get_by_role("region", name=re.compile("^Aurora Analytics"))
    expect(aurora).to_contain_text("Fields seen: Close date, Stage.")  # labels, not keys
    expect(aurora.get_by_role("list", name="Counts by movement")).to_contain_text("New 1")
    b.shot("10-review-partner")
    a.go(story.plan_url + "/review")
    expect(a.page.get_by_role("heading", level=1)).to_be_visible()
    a.shot("11-review-owner")
    story.assert_nothing_leaked_to_b()


# -- (d) a workflow, and the card dragged across the board ------------------------------------


def _chevron_count(visitor: Visitor, stage: str) -> Any:
    return visitor.page.locator(f".chevrons [data-stage='{stage}'] .chevron-count")


def journey_d_card_is_dragged_to_the_next_stage_and_the_chevrons_follow(story: Story) -> None:
    a, b = story.a, story.b
    a.go("/settings/workflows")
    a.page.get_by_role("combobox", name="Template").select_option(label="Standard pipeline")
    a.click(a.page.get_by_role("button", name="Create workflow"))
    a.go("/settings/workflows")
    expect(a.page.get_by_role("table")).to_contain_text("Standard pipeline")
    a.shot("12-settings-workflows")

    a.go("/board")
    card = a.page.locator(f"[data-record-id='{_record_id(story.opportunity_url)}']")
    qualify = a.page.locator(".kanban [data-stage='qualify']").first
    develop = a.page.locator(".kanban [data-stage='develop']").first
    expect(qualify.locator(card)).to_have_count(1)
    expect(_chevron_count(a, "qualify")).to_have_text("1")
    expect(_chevron_count(a, "develop")).to_have_text("0")
    a.shot("13-board-before-drag")

    card.drag_to(develop)
    try:
        expect(develop.locator(card)).to_have_count(1, timeout=3000)
        story.drag_path = "drag"
    except AssertionError:
        # no drag-and-drop (yet): the keyboard alternative on the card
        a.page.get_by_label(f"Move {OPPORTUNITY} to").select_option(label="Develop")
        card.get_by_role("button", name="Move").click()
        story.drag_path = "move-to select"
    develop = a.page.locator(".kanban [data-stage='develop']").first
    expect(develop.locator(card)).to_have_count(1)
    expect(_chevron_count(a, "qualify")).to_have_text("0")
    expect(_chevron_count(a, "develop")).to_have_text("1")
    a.settle()
    a.shot("14-board-after-drag")
    print(f"board move ran through: {story.drag_path}")

    a.go(story.opportunity_url)
    expect(a.page.locator("#workflow-panel")).to_contain_text("Develop")

    b.go("/board")
    expect(
        b.page.locator(f"[data-record-id='{_record_id(story.opportunity_url)}']")
    ).to_contain_text("250,000.00")
    b.shot("15-board-partner")
    story.assert_nothing_leaked_to_b()


# -- (e) a comment with a mention; the partner is notified ------------------------------------


def journey_e_a_mention_notifies_the_partner_and_internal_notes_stay_home(story: Story) -> None:
    a, b = story.a, story.b
    a.go(story.opportunity_url)
    activity = a.page.locator("#activity")
    activity.get_by_label("Comment", exact=True).fill("Can you confirm the budget? ")
    activity.get_by_label("Mention someone").fill("Ben")
    activity.get_by_role("button", name=re.compile("^Ben Okafor")).click()
    expect(activity.get_by_label("Comment", exact=True)).to_have_value(
        re.compile(r"@\[Ben Okafor\]\(")
    )
    activity.get_by_role("button", name="Post comment").click()
    expect(a.page.locator("#timeline-items")).to_contain_text("Can you confirm the budget?")

    # an internal note with a canary: never for the partner
    activity = a.page.locator("#activity")
    activity.get_by_label("Comment", exact=True).fill(
        f"Internal: walk-away price in {CANARY_INTERNAL}"
    )
    activity.get_by_label("Who sees it").select_option("company")
    activity.get_by_role("button", name="Post comment").click()
    expect(a.page.locator("#timeline-items")).to_contain_text(CANARY_INTERNAL)
    a.settle()

    b.go("/notifications")
    expect(b.page.get_by_role("main")).to_contain_text("mentioned you on")
    expect(b.page.get_by_role("main")).to_contain_text(OPPORTUNITY)
    b.shot("16-notifications-partner")
    b.go(story.opportunity_url)
    timeline = b.page.locator("#timeline-items")
    expect(timeline).to_contain_text("Can you confirm the budget?")
    expect(timeline).not_to_contain_text("Internal:")
    story.assert_nothing_leaked_to_b()


# -- (f) hide private fields -------------------------------------------------------------------


def _field_canaries_on(visitor: Visitor) -> set[str]:
    html = visitor.page.content()
    return {p.pattern for p in FIELD_CANARIES if p.search(html)}


def journey_f_hide_private_fields_takes_the_canaries_off_the_owners_pages(story: Story) -> None:
    a = story.a
    amount, note = (p.pattern for p in FIELD_CANARIES)
    # where each private value shows: the record page has both, the list and the board my amount
    expected = {
        story.opportunity_url: {amount, note},
        "/opportunities": {amount},
        "/board": {amount},
    }
    for path, canaries in expected.items():
        a.go(path)
        assert _field_canaries_on(a) == canaries, path

    a.go(story.opportunity_url)
    a.click(a.page.get_by_role("button", name="Hide private fields"))
    expect(a.page.get_by_role("status").filter(has_text="Private fields hidden")).to_be_visible()
    for path, name in zip(expected, ["record", "list", "board"], strict=True):
        a.go(path)
        assert not _field_canaries_on(a), f"{path} shows a private value while they are hidden"
        if name == "board":  # the card reads "closes …", with no separator left dangling
            card = a.page.locator(f"[data-record-id='{_record_id(story.opportunity_url)}']")
            expect(card).to_contain_text("closes 31 Mar 2027")
            expect(card).not_to_contain_text("· closes")
        a.shot(f"17-private-hidden-{name}-owner")
    expect(a.page.get_by_role("button", name="Show private fields")).to_be_visible()

    a.click(a.page.get_by_role("button", name="Show private fields"))
    for path, canaries in expected.items():
        a.go(path)
        assert _field_canaries_on(a) == canaries, f"{path} after showing private fields again"


# -- the partner's export, API reads, and every page it saw ------------------------------------


def journey_g_nothing_the_partner_received_carries_a_canary(story: Story) -> None:
    a, b = story.a, story.b
    recorder = b.recorder
    assert recorder is not None

    # the settings pages, for the record
    for path, name in [("/settings/company", "company"), ("/settings/rules", "rules")]:
        a.go(path)
        a.shot(f"18-settings-{name}-owner")
    b.go("/settings/templates/opportunity")
    b.shot("19-settings-templates-partner")
    a.go("/network")  # the graph now links the partners through their shared records
    a.shot("20-network-owner-after-sharing")
    b.go("/")
    b.shot("21-home-partner")
    b.go("/settings/rules")

    # Ben exports the opportunity list with a personal API token, as a script would
    b.go("/settings/tokens")
    b.page.get_by_role("textbox", name="Name").fill("export")
    b.click(b.page.get_by_role("button", name="Create token"))
    token = b.page.get_by_role("textbox", name="Token").input_value()
    headers = {"Authorization": f"Bearer {token}"}
    export = b.context.request.get("/api/v1/opportunities/export?format=csv", headers=headers)
    assert export.ok, export.status
    csv_text = export.text()
    recorder.add("export /api/v1/opportunities/export?format=csv", csv_text)
    assert OPPORTUNITY in csv_text
    assert "250000" in csv_text.replace(",", "")  # Ben's own amount
    assert "Aurora Lakehouse" in csv_text  # what Ada shares
    opportunity_id = _record_id(story.opportunity_url)
    for path in [
        f"/api/v1/opportunities/{opportunity_id}",
        "/api/v1/opportunities",
        f"/api/v1/plans/{_record_id(story.plan_url)}/records",
        "/api/v1/search?q=Helios",
    ]:
        answer = b.context.request.get(path, headers=headers)
        assert answer.ok, (path, answer.status)
        recorder.add(f"API {path}", answer.text())

    kinds = {d.source.split(" ", 1)[0] for d in recorder.documents}
    assert {"response", "DOM", "export", "API"} <= kinds, kinds
    assert len(recorder.documents) > 40, len(recorder.documents)
    story.assert_nothing_leaked_to_b()


# -- the tests: one per journey, in order ----------------------------------------------------

JOURNEYS: list[Callable[[Story], None]] = [
    journey_a_two_companies_sign_up_and_become_partners,
    journey_b_templates_keep_canaries_private_and_a_joint_plan_is_shared,
    journey_c_opportunity_is_shared_and_the_partner_fills_its_space,
    journey_d_card_is_dragged_to_the_next_stage_and_the_chevrons_follow,
    journey_e_a_mention_notifies_the_partner_and_internal_notes_stay_home,
    journey_f_hide_private_fields_takes_the_canaries_off_the_owners_pages,
    journey_g_nothing_the_partner_received_carries_a_canary,
]


def test_a_two_companies_sign_up_and_become_partners(story: Story) -> None:
    story.run(journey_a_two_companies_sign_up_and_become_partners)


def test_b_templates_keep_canaries_private_and_a_joint_plan_is_shared(story: Story) -> None:
    story.run(journey_b_templates_keep_canaries_private_and_a_joint_plan_is_shared)


def test_c_opportunity_is_shared_and_the_partner_fills_its_space(story: Story) -> None:
    story.run(journey_c_opportunity_is_shared_and_the_partner_fills_its_space)


def test_d_card_is_dragged_to_the_next_stage_and_the_chevrons_follow(story: Story) -> None:
    story.run(journey_d_card_is_dragged_to_the_next_stage_and_the_chevrons_follow)


def test_e_a_mention_notifies_the_partner_and_internal_notes_stay_home(story: Story) -> None:
    story.run(journey_e_a_mention_notifies_the_partner_and_internal_notes_stay_home)


def test_f_hide_private_fields_takes_the_canaries_off_the_owners_pages(story: Story) -> None:
    story.run(journey_f_hide_private_fields_takes_the_canaries_off_the_owners_pages)


def test_g_nothing_the_partner_received_carries_a_canary(story: Story) -> None:
    story.run(journey_g_nothing_the_partner_received_carries_a_canary)
