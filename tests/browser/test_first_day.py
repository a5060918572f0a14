"""A partner manager's first day with Coterie, in Chromium, by clicking only: the "Done when"
story of issue 16.

Two companies that never used Coterie sign up: Fay runs partnerships at Fjord Analytics
(company A), Gus at Glacier Systems (company B). Fay finds Glacier in the directory and invites
it; Gus accepts from the e-mail's link. Fay shapes her opportunity workflow in the designer (the
standard pipeline every company starts with: one stage renamed, one added and moved into place),
creates a program and, from its page, a joint plan with Glacier and a goal; Gus accepts the plan.
Fay creates two opportunities in the "New opportunity" dialog (the stage chosen from the
workflow's stages), shares them with Glacier, and Gus fills his own amount on each. Fay drags
one to the next stage on the board, builds a report by clicking (grouped by stage, two
measures, a filter row), saves it shared with Glacier, puts it on a new dashboard and downloads
the QBR deck, whose slides and numbers python-pptx reads back. Gus opens what was shared.

Fay's amounts are private to Fjord (the default); the first carries the canary 7,373,737.37.
Every page, fragment and download Gus's browser receives is recorded and none may carry it.
On every page visited: axe finds nothing serious, no box asks for JSON, no raw key shows.
Dates are relative to today (the plan runs from 30 days ago to 150 days from now).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Download, Locator, expect

from tests.browser.axe import serious_violations
from tests.browser.helpers import (
    FAILED,
    LiveServer,
    Visitor,
    amount_patterns,
    assert_nothing_leaked,
    body_text,
    read_deck,
)
from tests.fixtures.smtp import SmtpServer, link_in

pytestmark = pytest.mark.xdist_group("browser")

A_COMPANY = "Fjord Analytics"
B_COMPANY = "Glacier Systems"
PROGRAM = "Nordic data program"
PLAN = "Fjord and Glacier FY27 co-sell"
DEAL_ONE = "Troll Bank: lakehouse"
DEAL_TWO = "Sami Energy: data mesh"
CANARY_AMOUNT = "7373737.37"  # Fjord's private amount on DEAL_ONE
A_AMOUNT_TWO = "120000"
B_AMOUNTS = {DEAL_ONE: "250000", DEAL_TWO: "40000"}
CANARIES = amount_patterns("7373737")
REPORT = "Pipeline with Glacier"
DASHBOARD = "Glacier QBR"
RENAMED = "Discovery"  # the standard pipeline's "Develop", renamed in the designer
ADDED = "Security review"  # a stage added before "Closed won"
TODAY = date.today()
START = TODAY - timedelta(days=30)
END = TODAY + timedelta(days=150)

# keys that must never reach a heading, a label or a button: field keys, template and stage keys
RAW_KEYS = (
    "customer_name",
    "close_date",
    "forecast_category",
    "share_companies",
    "program_id",
    "partner_company",
    "standard_pipeline",
    "mine.amount",
    "_unstaged",
    "security_review",
    "record_owner",
    "due_in_days",
)


@dataclass
class Story:
    a: Visitor
    b: Visitor
    smtp: SmtpServer
    done: set[str] = field(default_factory=set)
    attempted: set[str] = field(default_factory=set)
    pages: set[str] = field(default_factory=set)
    program_url: str = ""
    plan_url: str = ""
    deals: dict[str, str] = field(default_factory=dict)
    report_url: str = ""
    dashboard_url: str = ""

    def run(self, step: Callable[[Story], None]) -> None:
        """Run `step` after every step before it that has not run in this process yet; a step
        that failed is not tried twice (the later ones skip)."""
        for earlier in STEPS[: STEPS.index(step) + 1]:
            name = earlier.__name__
            if name in self.done:
                continue
            if name in self.attempted:
                pytest.skip(f"an earlier step failed: {name}")
            self.attempted.add(name)
            earlier(self)
            self.done.add(name)

    def assert_nothing_leaked_to_b(self) -> None:
        assert_nothing_leaked(
            self.b, self.smtp.inbox, CANARIES, "Fjord's private amount reached Glacier"
        )


@pytest.fixture(scope="module")
def story(
    browser: Browser, live_server: LiveServer, smtp_server: SmtpServer, screenshots: Path
) -> Iterator[Story]:
    """Fay and Gus, each in a browser of their own; signup as it ships (with the standard
    workflow, which the tests' settings turn off by default)."""
    settings = live_server.server.config.app.state.settings
    before = settings.standard_workflow_at_signup
    settings.standard_workflow_at_signup = True
    a = Visitor("Fay", browser, live_server.url, screenshots)
    b = Visitor("Gus", browser, live_server.url, screenshots, record=True)
    yield Story(a, b, smtp_server)
    a.close()
    b.close()
    settings.standard_workflow_at_signup = before


@pytest.fixture(autouse=True)
def _screenshot_on_failure(
    request: pytest.FixtureRequest, story: Story, screenshots: Path
) -> Iterator[None]:
    yield
    if request.node.stash.get(FAILED, False):
        for visitor in (story.a, story.b):
            with contextlib.suppress(Exception):  # the browser itself may be what failed
                visitor.shot(f"FAILED-firstday-{request.node.name}-{visitor.name}")


# -- what every page visited must be ---------------------------------------------------------

_JSON_BOXES = """
() => [...document.querySelectorAll("textarea")]
  .map((t) => [t.labels ? [...t.labels].map((l) => l.textContent).join(" ") : "",
               t.getAttribute("aria-label") || "", t.placeholder || ""].join(" "))
  .filter((text) => /json/i.test(text))
"""

_WORDING = """
() => [...document.querySelectorAll(
    "main h1, main h2, main h3, main label, main legend, main th, main button, main summary," +
    " main option, main .btn, dialog[open] h2, dialog[open] label, dialog[open] button")]
  .filter((el) => el.offsetParent !== null || el.tagName === "OPTION")
  .map((el) => el.textContent.trim())
"""


def _check(visitor: Visitor, story: Story) -> None:
    """On the page as it is now: axe finds nothing serious, no text box asks for JSON, and no
    heading, label, column, button or option shows a raw key."""
    page = visitor.page
    where = page.url
    story.pages.add(re.sub(r"[0-9a-f-]{36}", "{id}", where.split("?")[0]))
    assert serious_violations(page) == [], where
    assert page.evaluate(_JSON_BOXES) == [], f"{where} asks for JSON"
    wording = "\n".join(page.evaluate(_WORDING))
    assert wording.strip(), f"{where}: no heading, label or button read"  # the check reads
    shown = [key for key in RAW_KEYS if key in wording]
    shown += re.findall(r"\b[a-z]+_[a-z_]+\b", wording)  # anything shaped like a key
    assert not shown, f"{where} shows raw keys {shown}"


def _go(visitor: Visitor, story: Story, path: str) -> None:
    visitor.go(path)
    _check(visitor, story)


def _field(scope: Locator, text: str) -> Locator:
    """A control by the start of its label (labels may also carry a lock or an asterisk)."""
    return scope.get_by_label(re.compile(rf"^{re.escape(text)}(?! currency)(\s|\*|$)"))


def _download(visitor: Visitor, name: str) -> tuple[Download, bytes]:
    with visitor.page.expect_download() as info:
        visitor.page.get_by_role("link", name=name, exact=True).click()
    download = info.value
    path = download.path()
    assert path is not None
    return download, Path(path).read_bytes()


# -- the story's steps -----------------------------------------------------------------------


def step_a_two_companies_sign_up_and_become_partners(story: Story) -> None:
    a, b = story.a, story.b
    a.sign_up(A_COMPANY, "fjord-analytics.example", "Fay Nilsen", "fay@fjord.example")
    _check(a, story)
    b.sign_up(B_COMPANY, "glacier-systems.example", "Gus Berg", "gus@glacier.example")
    _check(b, story)
    a.shots("firstday-a-home")

    _go(a, story, f"/directory?q={B_COMPANY.split()[0]}")
    card = a.page.get_by_role("article", name=B_COMPANY)
    card.get_by_text("Invite to partner").click()
    card.get_by_label(f"Message to {B_COMPANY}").fill("Shall we co-sell lakehouses?")
    a.click(card.get_by_role("button", name="Send invitation"))
    expect(a.page.get_by_role("article", name=B_COMPANY)).to_contain_text("Invitation sent")
    _check(a, story)
    a.shots("firstday-a-directory")

    mail = story.smtp.inbox.wait_for(b.email)
    assert A_COMPANY in body_text(mail)
    b.go(link_in(mail, "/"))
    _check(b, story)
    invitation = b.page.locator(".partnership", has_text=A_COMPANY)
    expect(invitation).to_contain_text("Shall we co-sell lakehouses?")
    b.click(invitation.get_by_role("button", name="Accept"))
    expect(b.page.locator(".partnership", has_text=A_COMPANY)).to_contain_text("Active")

    _go(a, story, "/network")
    expect(a.page.locator("#partners")).to_contain_text(B_COMPANY)
    expect(a.page.locator("#partners")).to_contain_text("Active")
    a.shots("firstday-a-network")
    story.assert_nothing_leaked_to_b()


def step_b_the_workflow_is_shaped_in_the_designer(story: Story) -> None:
    a = story.a
    page = a.page
    _go(a, story, "/settings/workflows")
    workflows = page.locator("#workflows-title").locator("xpath=..")
    expect(workflows.get_by_role("link", name="Standard pipeline")).to_have_count(1)
    a.click(workflows.get_by_role("link", name="Standard pipeline"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Standard pipeline")
    _check(a, story)
    stages = page.locator(".wd-stage input[data-k='label']")
    expect(stages).to_have_count(6)
    stages.nth(1).fill(RENAMED)  # "Develop"
    page.get_by_label("New stage", exact=True).fill(ADDED)
    page.get_by_role("button", name="Add stage").click()
    for _ in range(2):  # after "Closed lost" and "Closed won": moved above them
        page.get_by_role("button", name=f"Move {ADDED} up").click()
    order = ["Qualify", RENAMED, "Propose", "Negotiate", ADDED, "Closed won", "Closed lost"]
    expect(page.locator("[data-preview] .wd-col-name")).to_have_text(order)
    _check(a, story)
    a.shots("firstday-b-designer")
    a.click(page.get_by_role("button", name="Save workflow"))
    expect(a.flash()).to_contain_text("Workflow saved.")
    expect(page.locator(".wd-stage input[data-k='label']")).to_have_count(7)

    _go(a, story, "/board")
    heads = page.locator(".kanban-column .kanban-head")
    for name in order:
        expect(heads.filter(has_text=name)).to_have_count(1)


def step_c_a_program_and_a_joint_plan_with_a_goal(story: Story) -> None:
    a, b = story.a, story.b
    page = a.page
    _go(a, story, "/programs")
    a.click(page.get_by_role("link", name=re.compile(r"^New (partner )?program")).first)
    dialog = page.locator("dialog#new-record")
    expect(dialog).to_be_visible()
    _check(a, story)
    _field(dialog, "Program name").fill(PROGRAM)
    _field(dialog, "Starts on").fill(START.isoformat())
    _field(dialog, "Ends on").fill(END.isoformat())
    dialog.get_by_role("button", name="Create partner program").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(PROGRAM)
    a.settle()
    story.program_url = page.url
    _check(a, story)

    a.click(page.locator("#cosell-panel").get_by_role("button", name="New plan"))
    plan = page.locator("dialog#new-plan")
    expect(plan).to_be_visible()
    _field(plan, "Plan name").fill(PLAN)
    _field(plan, "Period start").fill(START.isoformat())
    _field(plan, "Period end").fill(END.isoformat())
    _field(plan, "Partner to invite").select_option(label=B_COMPANY)
    _field(plan, "Metric").select_option(label="Number of opportunities")
    _field(plan, "Target").fill("4")
    _check(a, story)
    plan.get_by_role("button", name="Create joint sales plan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(PLAN)
    a.settle()
    story.plan_url = page.url
    _check(a, story)

    # Gus is told: a notification names who invites him to what
    _go(b, story, "/notifications")
    expect(b.page.get_by_role("main")).to_contain_text(PLAN)
    expect(b.page.get_by_role("main")).to_contain_text("invited your company to")
    b.shots("firstday-c-notifications-partner")
    _go(b, story, "/plans")
    invitations = b.page.get_by_role("region", name=re.compile("Invitations"))
    expect(invitations).to_contain_text(PLAN)
    expect(invitations).to_contain_text(f"Invited by {A_COMPANY}")
    b.click(invitations.get_by_role("button", name=f"Accept {PLAN}"))
    expect(b.page.get_by_role("heading", level=1)).to_have_text(PLAN)
    expect(b.page.locator("#participants")).to_contain_text("Active")
    _check(b, story)

    _go(a, story, story.program_url)
    card = page.locator("article.plan-card", has_text=PLAN)
    expect(card).to_contain_text(B_COMPANY)
    expect(card.locator("tbody tr")).to_contain_text("Number of opportunities")
    a.shots("firstday-c-program")
    story.assert_nothing_leaked_to_b()


def step_d_two_opportunities_are_created_shared_and_filled(story: Story) -> None:
    a, b = story.a, story.b
    page = a.page
    for title, amount, stage in (
        (DEAL_ONE, CANARY_AMOUNT, "Qualify"),
        (DEAL_TWO, A_AMOUNT_TWO, RENAMED),
    ):
        _go(a, story, "/opportunities")
        page.get_by_role("link", name="New opportunity").first.click()
        dialog = page.locator("dialog#new-record")
        expect(dialog).to_be_visible()
        _field(dialog, "Title").fill(title)
        dialog.get_by_role("textbox", name="Customer", exact=True).fill(title.split(":")[0])
        _field(dialog, "Amount").fill(amount)
        stage_box = _field(dialog, "Stage")
        expect(stage_box).to_have_js_property("tagName", "SELECT")
        stage_box.select_option(label=stage)
        _field(dialog, "Close date").fill((TODAY + timedelta(days=60)).isoformat())
        _check(a, story)
        if title == DEAL_ONE:
            a.shots("firstday-d-new-opportunity")
        dialog.get_by_role("button", name="Create opportunity").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(title)
        a.settle()
        story.deals[title] = page.url
        expect(page.locator("#my-space")).to_contain_text(stage)
        page.get_by_label("Partner company").select_option(label=B_COMPANY)
        a.click(page.get_by_role("button", name="Invite", exact=True))
        expect(page.locator("#participants")).to_contain_text("Invited")
        _check(a, story)
    expect(page.locator("#my-space")).to_contain_text("120,000.00")

    for title, amount in B_AMOUNTS.items():
        _go(b, story, "/opportunities")
        b.click(b.page.get_by_role("button", name=f"Accept {title}"))
        expect(b.page.get_by_role("heading", level=1)).to_have_text(title)
        b.click(b.page.get_by_role("link", name="Edit your space"))
        _check(b, story)
        b.field("Amount").fill(amount)
        b.click(b.page.get_by_role("button", name="Save my space"))
        expect(b.page.locator("#my-space")).to_contain_text(f"{int(amount):,}.00")
        _check(b, story)
    b.shots("firstday-d-partner-record")
    story.assert_nothing_leaked_to_b()


def step_e_a_deal_is_dragged_on_the_board(story: Story) -> None:
    a = story.a
    page = a.page
    _go(a, story, "/board")
    deal_id = story.deals[DEAL_ONE].rsplit("/", 1)[1]
    card = page.locator(f"article[data-record-id='{deal_id}']")
    expect(page.locator("#cards-qualify").locator(card)).to_have_count(1)
    count = page.locator(".chevrons [data-stage='develop'] .chevron-count")
    expect(count).to_have_text("1")
    card.drag_to(page.locator("#cards-develop"))
    expect(page.locator("#cards-develop").locator(card)).to_have_count(1)
    expect(count).to_have_text("2")
    expect(page.locator("#board-status")).to_contain_text(f"Moved to {RENAMED}")
    a.settle()
    expect(page.locator(".lead")).to_contain_text(f"totals in {A_COMPANY}' currency")
    _check(a, story)
    a.shots("firstday-e-board")
    _go(a, story, story.deals[DEAL_ONE])
    expect(page.locator("#my-space")).to_contain_text(RENAMED)


def step_f_a_report_is_built_shared_and_put_on_a_dashboard(story: Story) -> None:
    a = story.a
    page = a.page
    _go(a, story, "/reports/new")
    page.get_by_role("textbox", name=re.compile(r"^Name\b")).fill(REPORT)
    page.get_by_label("Records").select_option(label="Opportunity")
    page.get_by_label("Chart").select_option(label="Bar")
    page.get_by_label("Group by").select_option(label="Stage")
    page.get_by_label("Count", exact=True).check()
    page.get_by_label("Sum of my amount", exact=True).check()
    # a partner's measure reads as English: "Glacier Systems' amount", never "Systems's"
    expect(
        page.get_by_label(f"Sum of {B_COMPANY}' amount (where shared with you)", exact=True)
    ).to_have_count(1)
    a.click(page.get_by_role("button", name="+ Add filter"))
    row = page.locator("[data-filter-row]").first
    row.get_by_label(re.compile(r"^Field")).select_option(label="Owner company")
    a.settle()
    row = page.locator("[data-filter-row]").first
    row.get_by_label(re.compile(r"^Condition")).select_option(label="is")
    a.settle()
    row = page.locator("[data-filter-row]").first
    row.get_by_label(re.compile(r"^Value")).select_option(label=A_COMPANY)
    a.click(page.get_by_role("button", name="Preview"))
    table = page.locator("#report-result table")
    # both deals are now in Discovery: 7,373,737.37 + 120,000
    expect(table).to_contain_text(RENAMED)
    expect(table).to_contain_text("7,493,737.37")
    page.locator("details.report-sharing summary").click()
    page.locator("details.report-sharing").get_by_role(
        "checkbox", name=B_COMPANY, exact=True
    ).check()
    _check(a, story)
    a.shots("firstday-f-report-builder")
    a.click(page.get_by_role("button", name="Save report"))
    expect(page.get_by_role("heading", level=1)).to_have_text(REPORT)
    story.report_url = page.url
    _check(a, story)

    _go(a, story, "/reports")
    page.locator("details.report-new-dashboard summary").click()
    form = page.locator("details.report-new-dashboard form")
    form.get_by_role("textbox", name=re.compile(r"^Name\b")).fill(DASHBOARD)
    form.get_by_label(REPORT, exact=True).check()
    a.click(form.get_by_role("button", name="Save dashboard"))
    expect(page.get_by_role("heading", level=1)).to_have_text(DASHBOARD)
    story.dashboard_url = page.url
    details = page.locator("form.report-editor-details")
    details.get_by_role("checkbox", name=B_COMPANY, exact=True).check()
    a.click(details.get_by_role("button", name="Save name and sharing"))
    expect(a.flash()).to_contain_text("Dashboard saved.")
    expect(page.locator("#panels")).to_contain_text("7,493,737.37")
    _check(a, story)
    a.shots("firstday-f-dashboard")

    download, content = _download(a, "Download QBR deck (PPTX)")
    assert download.suggested_filename == "Glacier-QBR.pptx"
    titles, values = read_deck(content)
    assert titles == [DASHBOARD, REPORT]
    assert 2.0 in values  # two deals in Discovery
    assert 7493737.37 in values


def step_g_the_partner_sees_only_what_was_shared(story: Story) -> None:
    b = story.b
    page = b.page
    _go(b, story, "/reports")
    b.click(page.get_by_role("link", name=DASHBOARD))
    expect(page.get_by_role("heading", level=1)).to_have_text(DASHBOARD)
    main = page.get_by_role("main")
    expect(main).to_contain_text(f"Shared by {A_COMPANY}")
    panels = page.locator("#panels")
    # Glacier's own amounts on the two deals: 250,000 + 40,000, never Fjord's
    expect(panels).to_contain_text("290,000.00")
    expect(panels).not_to_contain_text("7,493,737.37")
    _check(b, story)
    b.shots("firstday-g-dashboard-partner")
    _, content = _download(b, "Download QBR deck (PPTX)")
    titles, values = read_deck(content)
    assert titles == [DASHBOARD, REPORT]
    assert 290000.0 in values
    assert not [v for v in values if v > 7_000_000], values

    _go(b, story, story.report_url)
    expect(page.get_by_role("heading", level=1)).to_have_text(REPORT)
    _go(b, story, story.deals[DEAL_ONE])
    expect(page.locator("#my-space")).to_contain_text("250,000.00")
    expect(page.locator("#partner-spaces")).not_to_contain_text("7,373,737")
    b.shots("firstday-g-record-partner")
    _go(b, story, story.plan_url)
    _go(b, story, "/board")
    story.assert_nothing_leaked_to_b()
    assert len(story.pages) >= 15, sorted(story.pages)


STEPS: list[Callable[[Story], None]] = [
    step_a_two_companies_sign_up_and_become_partners,
    step_b_the_workflow_is_shaped_in_the_designer,
    step_c_a_program_and_a_joint_plan_with_a_goal,
    step_d_two_opportunities_are_created_shared_and_filled,
    step_e_a_deal_is_dragged_on_the_board,
    step_f_a_report_is_built_shared_and_put_on_a_dashboard,
    step_g_the_partner_sees_only_what_was_shared,
]


def test_a_two_companies_sign_up_and_become_partners(story: Story) -> None:
    story.run(step_a_two_companies_sign_up_and_become_partners)


def test_b_the_workflow_is_shaped_in_the_designer(story: Story) -> None:
    story.run(step_b_the_workflow_is_shaped_in_the_designer)


def test_c_a_program_and_a_joint_plan_with_a_goal(story: Story) -> None:
    story.run(step_c_a_program_and_a_joint_plan_with_a_goal)


def test_d_two_opportunities_are_created_shared_and_filled(story: Story) -> None:
    story.run(step_d_two_opportunities_are_created_shared_and_filled)


def test_e_a_deal_is_dragged_on_the_board(story: Story) -> None:
    story.run(step_e_a_deal_is_dragged_on_the_board)


def test_f_a_report_is_built_shared_and_put_on_a_dashboard(story: Story) -> None:
    story.run(step_f_a_report_is_built_shared_and_put_on_a_dashboard)


def test_g_the_partner_sees_only_what_was_shared(story: Story) -> None:
    story.run(step_g_the_partner_sees_only_what_was_shared)
