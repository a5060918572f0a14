"""Marketing funds in a real browser: a partner requests funds from a program host's budget,
the host approves a smaller amount (with a private note), the partner claims, the host approves
the claim and marks it paid. Screenshots `funds-budget`, `funds-request` and `funds-claim` at
1440 and 1024 px; axe finds nothing serious on the funds pages; nothing the partner's browser
or inbox receives carries the host's private note, its budget's total or another partner's
request."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from coterie.db import utcnow
from tests.browser.axe import serious_violations
from tests.browser.helpers import (
    LiveServer,
    Visitor,
    amount_patterns,
    assert_nothing_leaked,
    canary_patterns,
)
from tests.fixtures.attachments import pdf_bytes
from tests.fixtures.builders import make_company, make_partnership
from tests.fixtures.cosell import join, record
from tests.fixtures.smtp import Inbox

pytestmark = pytest.mark.xdist_group("browser")

FUNDS = "/api/v1/funds"
HOST_NOTE = "CANARY-HOST-FUND-NOTE"
OTHER_ACTIVITY = "CANARY-OTHER-PARTNER-WEBINAR"
TOTAL = "86420975.31"
CANARIES = [*canary_patterns(HOST_NOTE, OTHER_ACTIVITY), *amount_patterns("86420975")]


def _day(offset: int) -> str:
    return (utcnow().date() + timedelta(days=offset)).isoformat()


def _no_serious(visitor: Visitor) -> None:
    found = serious_violations(visitor.page)
    assert found == [], "\n".join(found)


def _setup(api: Any) -> tuple[Any, Any, str]:
    suffix = uuid.uuid4().hex[:6]
    host = make_company(api, f"Nimbus Cloud {suffix}")
    partner = make_company(api, f"Brightpath Consulting {suffix}")
    other = make_company(api, f"Other Integrator {suffix}")
    make_partnership(api, host, partner)
    make_partnership(api, host, other)
    program = record(api, host, "program", "Nimbus Partner Marketing")
    join(api, host, "program", program, partner, other)
    budget = api.post(f"{FUNDS}/budgets", headers=host.headers, json={
        "program_id": program, "name": "FY27 H1 partner marketing fund", "period_name": "FY27 H1",
        "period_start": _day(-30), "period_end": _day(150), "currency": "EUR", "total": TOTAL,
    }).json()  # fmt: skip
    for who, cap in ((partner, "25000.00"), (other, None)):
        saved = api.post(f"{FUNDS}/budgets/{budget['id']}/allocations", headers=host.headers,
                         json={"partner_company_id": who.company_id, "cap": cap})  # fmt: skip
        assert saved.status_code == 200, saved.text
    theirs = api.post(f"{FUNDS}/requests", headers=other.headers, json={
        "budget_id": budget["id"], "activity": OTHER_ACTIVITY, "requested_amount": "900.00",
        "currency": "EUR", "starts_on": _day(5), "ends_on": _day(6), "claim_deadline": _day(30),
        "submit": True,
    })  # fmt: skip
    assert theirs.status_code == 201, theirs.text
    return host, partner, str(budget["id"])


def test_a_partner_requests_the_host_approves_the_partner_claims_the_host_pays(
    browser: Browser,
    live_server: LiveServer,
    screenshots: Path,
    visitors: list[Visitor],
    inbox: Inbox,
) -> None:
    with httpx.Client(base_url=live_server.url, timeout=10) as api:
        host, partner, budget_id = _setup(api)

    bea = Visitor("partner", browser, live_server.url, screenshots, record=True)
    visitors.append(bea)
    bea.email = partner.email
    bea.sign_in(partner.email)
    bea.go("/funds")
    _no_serious(bea)
    page = bea.page
    bea.click(page.get_by_role("button", name="Request funds"))
    dialog = page.locator("#new-request")
    activity = dialog.get_by_label(re.compile(r"^Activity(?! (starts|ends))"))
    activity.fill("Retail CIO webinar series")
    dialog.get_by_label("What you will do").fill("Three webinars with a joint demo")
    dialog.get_by_label("Amount requested").fill("4000")
    dialog.get_by_label("Expected pipeline").fill("150000")
    dialog.get_by_label("Activity starts").fill(_day(10))
    dialog.get_by_label("Activity ends").fill(_day(40))
    dialog.get_by_label("Claim by").fill(_day(70))
    bea.click(dialog.get_by_role("button", name="Save request"))
    expect(
        page.get_by_role("heading", name=re.compile("Retail CIO webinar series"))
    ).to_be_visible()
    expect(page.locator(".badge", has_text="Submitted")).to_be_visible()
    request_url = page.url

    hal = Visitor("host", browser, live_server.url, screenshots)
    visitors.append(hal)
    hal.sign_in(host.email)
    hal.go("/funds")
    expect(
        hal.page.get_by_role("heading", name=re.compile("Waiting for your decision"))
    ).to_be_visible()
    hal.click(hal.page.get_by_role("link", name="Retail CIO webinar series"))
    _no_serious(hal)
    hal.shots("funds-request")
    hal.click(hal.page.get_by_role("button", name="Approve", exact=True))
    approve = hal.page.locator("#approve")
    approve.get_by_label(re.compile("^Approved amount")).fill("3500")
    approve.get_by_label(re.compile("^Message to")).fill("Approved without the catering")
    approve.get_by_label(re.compile("^Internal note")).fill(HOST_NOTE)
    hal.click(approve.get_by_role("button", name="Approve"))
    expect(hal.flash()).to_contain_text("Fund request approved.")
    expect(hal.page.get_by_text(HOST_NOTE)).to_be_visible()  # the host's own note, on its page
    hal.go(f"/funds/budgets/{budget_id}")
    expect(hal.page.get_by_text("Committed 3,500.00 EUR")).to_be_visible()
    _no_serious(hal)
    hal.shots("funds-budget")

    bea.go(request_url)
    expect(bea.page.get_by_text("Approved without the catering")).to_be_visible()
    bea.click(bea.page.get_by_role("button", name="Claim funds"))
    claim = bea.page.locator("#new-claim")
    claim.get_by_label(re.compile("^Amount")).fill("3000")
    claim.get_by_label("What was done").fill("Three webinars, 240 attendees")
    bea.click(claim.get_by_role("button", name="Save claim"))
    expect(bea.flash()).to_contain_text("Claim saved: attach your proof, then submit it.")
    claims = bea.page.locator("#claims")
    claims.get_by_label("Attach a proof file").set_input_files(
        {"name": "attendance.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes()}
    )
    bea.click(claims.get_by_role("button", name=re.compile("^Upload")))
    expect(bea.flash()).to_contain_text("attendance.pdf is attached to the claim")
    bea.click(bea.page.locator("#claims").get_by_role("button", name="Submit claim"))
    expect(bea.flash()).to_contain_text("Claim submitted.")
    claims = bea.page.locator("#claims")
    expect(claims.get_by_role("link", name="attendance.pdf")).to_be_visible()
    expect(claims.locator(".badge", has_text="Submitted")).to_be_visible()
    _no_serious(bea)
    bea.shots("funds-claim")

    hal.go(request_url.replace(live_server.url, ""))
    expect(hal.page.locator("#claims").get_by_role("link", name="attendance.pdf")).to_be_visible()
    hal.click(hal.page.get_by_role("button", name=re.compile("^Approve the claim")))
    expect(hal.flash()).to_contain_text("Claim approved.")
    hal.click(hal.page.get_by_role("button", name="Mark paid"))
    pay = hal.page.locator("dialog[open]")
    pay.get_by_label("Payment reference").fill("PAY-2027-0042")
    hal.click(pay.get_by_role("button", name="Mark paid"))
    expect(hal.flash()).to_contain_text("Claim marked paid.")

    bea.go(request_url)
    expect(bea.page.locator("#claims .badge", has_text="Paid")).to_be_visible()
    expect(bea.page.get_by_text("PAY-2027-0042")).to_be_visible()
    bea.go("/funds")
    bea.go("/notifications")
    assert_nothing_leaked(
        bea, inbox, CANARIES, "the host's private note or another partner's request"
    )
