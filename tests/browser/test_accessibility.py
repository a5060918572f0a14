"""axe-core over the main pages in Chromium: no serious or critical violation, at 1440 px and
1024 px, with a screenshot of each page at both widths in the CI artefacts (`a11y-<page>`).

The signed-in pages are those of a company with one partner and one shared opportunity: the
record lists of every kind, a record page, the settings tabs, notifications, network,
directory and reports."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser

from tests.browser.axe import serious_violations
from tests.browser.helpers import LiveServer, Visitor
from tests.fixtures.activity import comment
from tests.fixtures.attachments import pdf_bytes
from tests.fixtures.builders import Member, make_company, make_partnership
from tests.fixtures.campaigns import attribute, campaign, link_solution
from tests.fixtures.cosell import join, record
from tests.fixtures.ideas import propose
from tests.fixtures.workflows import workflow

pytestmark = pytest.mark.xdist_group("browser")

PUBLIC_PAGES = {"login": "/login", "signup": "/signup"}


@pytest.fixture
def visitor(browser: Browser, live_server: LiveServer, screenshots: Path) -> Iterator[Visitor]:
    opened = Visitor("accessibility", browser, live_server.url, screenshots)
    yield opened
    opened.close()


def _check(visitor: Visitor, name: str, path: str) -> list[str]:
    visitor.go(path)
    found = []
    for width in (1440, 1024):
        visitor.page.set_viewport_size({"width": width, "height": 900})
        found += [f"{path} at {width} px: {line}" for line in serious_violations(visitor.page)]
    visitor.shots(f"a11y-{name}")
    return found


def test_the_sign_in_and_sign_up_pages_pass_axe(visitor: Visitor) -> None:
    found = [line for name, path in PUBLIC_PAGES.items() for line in _check(visitor, name, path)]
    assert found == []


def test_a_new_companys_home_passes_axe(live_server: LiveServer, visitor: Visitor) -> None:
    with httpx.Client(base_url=live_server.url, timeout=10) as api:
        client: Any = api
        acme = make_company(client, f"Axe Acme {uuid.uuid4().hex[:6]}")
    visitor.sign_in(acme.email)
    assert _check(visitor, "home", "/") == []


# -- every main page of a company with one partner and one shared opportunity ------------------

SIGNED_IN_PAGES = [
    *[(f"list-{plural}", f"/{plural}") for plural in ("opportunities", "leads", "accounts")],
    *[(f"list-{plural}", f"/{plural}") for plural in ("solutions", "programs", "plans")],
    ("list-campaigns", "/campaigns"),
    ("record", "/opportunities/{deal}"),
    ("program-ideas", "/programs/{program}"),
    ("solutions-portfolio", "/solutions/portfolio"),
    ("record-campaign", "/campaigns/{campaign}"),
    ("record-solution", "/solutions/{solution}"),
    *[
        (f"settings-{tab}", f"/settings/{tab}")
        for tab in (
            "company",
            "users",
            "teams",
            "templates",
            "rules",
            "preferences",
            "tokens",
            "integrations",
            "data-export",
        )
    ],
    ("notifications", "/notifications"),
    ("network", "/network"),
    ("directory", "/directory"),
    ("reports", "/reports"),
]


@pytest.fixture(scope="module")
def partnered(live_server: LiveServer) -> tuple[Member, dict[str, str]]:
    """A company with one partner and one opportunity shared with it (a comment and a file on it),
    attributed to a campaign and linked to a joint solution; and a program with the partner in
    it, an idea proposed to it and a solution on its workflow."""
    suffix = uuid.uuid4().hex[:6]
    with httpx.Client(base_url=live_server.url, timeout=10) as api:
        client: Any = api
        acme = make_company(client, f"Axe Partnered {suffix}")
        globex = make_company(client, f"Axe Globex {suffix}")
        make_partnership(client, acme, globex)
        deal = record(client, acme, "opportunity", "Axe joint deal", amount=1000)
        join(client, acme, "opportunity", deal, globex)
        comment(client, globex, deal, "Looks good to us")
        program = record(client, acme, "program", "Axe program")
        join(client, acme, "program", program, globex)
        workflow(client, acme, template="joint_solution", program_id=program)
        idea = propose(client, globex, program, partner_company_ids=[acme.company_id])
        accepted = client.post(f"/api/v1/ideas/{idea['id']}/accept", headers=acme.headers)
        assert accepted.status_code == 200, accepted.text
        propose(client, globex, program, title="A second idea", kind="campaign")
        summit = campaign(client, acme, "Axe summit", channel="event", starts_on="2026-03-01")
        solution = record(client, acme, "solution", "Axe bundle")
        attribute(client, acme, summit, deal)
        link_solution(client, acme, solution, deal)
        # the record page's Files panel with a file in it (its delete dialog too)
        uploaded = api.post(
            f"/api/v1/opportunities/{deal}/attachments",
            files={"file": ("Joint proposal.pdf", pdf_bytes(), "application/pdf")},
            headers=acme.headers,
        )
        assert uploaded.status_code == 201, uploaded.text
    return acme, {"deal": deal, "program": program, "campaign": summit, "solution": solution}


@pytest.mark.parametrize(("name", "path"), SIGNED_IN_PAGES, ids=[n for n, _ in SIGNED_IN_PAGES])
def test_every_main_page_passes_axe(
    partnered: tuple[Member, dict[str, str]], visitor: Visitor, name: str, path: str
) -> None:
    member, ids = partnered
    visitor.sign_in(member.email)
    assert _check(visitor, name, path.format(**ids)) == []


# -- the funds pages: a program host's budget with one partner's request, approved and claimed --

FUNDS_PAGES = [
    ("funds", "/funds"),
    ("funds-budget", "/funds/budgets/{budget}"),
    ("funds-request", "/funds/requests/{request}"),
]


@pytest.fixture(scope="module")
def funded(live_server: LiveServer) -> tuple[Member, Member, dict[str, str]]:
    """A host's budget on its program, a partner's request approved and claimed."""
    from datetime import timedelta

    from coterie.db import utcnow

    def day(offset: int) -> str:
        return (utcnow().date() + timedelta(days=offset)).isoformat()

    suffix = uuid.uuid4().hex[:6]
    funds = "/api/v1/funds"
    with httpx.Client(base_url=live_server.url, timeout=10) as api:
        client: Any = api
        host = make_company(client, f"Axe Funder {suffix}")
        partner = make_company(client, f"Axe Requester {suffix}")
        make_partnership(client, host, partner)
        program = record(client, host, "program", "Axe program")
        join(client, host, "program", program, partner)
        budget = api.post(f"{funds}/budgets", headers=host.headers, json={
            "program_id": program, "name": "Axe fund", "period_name": "FY27 H1",
            "period_start": day(-5), "period_end": day(90), "currency": "EUR",
            "total": "10000", "total_shared": True,
        }).json()  # fmt: skip
        api.post(f"{funds}/budgets/{budget['id']}/allocations", headers=host.headers,
                 json={"partner_company_id": partner.company_id})  # fmt: skip
        request = api.post(f"{funds}/requests", headers=partner.headers, json={
            "budget_id": budget["id"], "activity": "Axe webinar", "requested_amount": "1000",
            "currency": "EUR", "starts_on": day(1), "ends_on": day(2), "claim_deadline": day(30),
            "submit": True,
        }).json()  # fmt: skip
        api.post(f"{funds}/requests/{request['id']}/approve", json={"approved_amount": "800"},
                 headers={**host.headers, "If-Match": f'"{request["version"]}"'})  # fmt: skip
        claimed = api.post(f"{funds}/requests/{request['id']}/claims",
                           json={"amount": "500", "submit": False},
                           headers=partner.headers)  # fmt: skip
        assert claimed.status_code == 201, claimed.text
        # a draft claim with one proof file: the partner's page shows the file and the upload
        proof = api.post(
            f"{funds}/claims/{claimed.json()['id']}/proof",
            headers=partner.headers,
            files={"file": ("attendance.pdf", pdf_bytes(), "application/pdf")},
        )
        assert proof.status_code == 201, proof.text
    return host, partner, {"budget": budget["id"], "request": request["id"]}


@pytest.mark.parametrize(("name", "path"), FUNDS_PAGES, ids=[n for n, _ in FUNDS_PAGES])
def test_the_funds_pages_pass_axe_for_the_funder_and_the_partner(
    funded: tuple[Member, Member, dict[str, str]], visitor: Visitor, name: str, path: str
) -> None:
    host, partner, ids = funded
    visitor.sign_in(host.email)
    assert _check(visitor, name, path.format(**ids)) == []
    browser = visitor.page.context.browser
    assert browser is not None
    partner_view = Visitor("accessibility-partner", browser, visitor.base_url, visitor.screenshots)
    try:
        partner_view.sign_in(partner.email)
        assert _check(partner_view, f"{name}-partner", path.format(**ids)) == []
    finally:
        partner_view.close()
