"""Home as a workspace, in Chromium: a busy company's home shows each section; accepting a
partnership invitation from home updates "My partners" without a reload; "End partnership" waits
behind a "More" menu and a confirmation (Keep leaves it, End ends it); axe finds nothing serious.

Home Aurora (the visitor) partners with Home Borealis; Home Cirrus has invited Aurora. Aurora
has a shared deal, two tasks (one overdue, dates computed from today), a move waiting for a
manager's approval, and Borealis's change on the shared deal as recent activity.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.browser.axe import serious_violations
from tests.browser.helpers import LiveServer, Visitor
from tests.fixtures.builders import make_company, make_partnership
from tests.fixtures.cosell import fill, join, record

pytestmark = pytest.mark.xdist_group("browser")

OPP = "opportunity"


def _day(value: date) -> str:
    """As the `date` filter writes it: 21 Jan 2027."""
    return f"{value.day} {value:%b %Y}"


def _busy_company(live_server: LiveServer, today: date) -> dict[str, Any]:
    suffix = uuid.uuid4().hex[:6]
    names = {k: f"Home {k} {suffix}" for k in ("Aurora", "Borealis", "Cirrus")}
    with httpx.Client(base_url=live_server.url, timeout=10) as api:
        client: Any = api
        me = make_company(client, names["Aurora"])
        partner = make_company(client, names["Borealis"])
        suitor = make_company(client, names["Cirrus"])
        make_partnership(client, me, partner)
        make_partnership(client, suitor, me, accept=False)
        deal = record(
            client,
            me,
            OPP,
            "Northwind rollout",
            core={"customer_name": "Northwind"},
            amount={"value": "48000", "currency": "USD"},
            stage="propose",
        )
        join(client, me, OPP, deal, partner)
        fill(client, partner, OPP, deal, stage="qualify")  # Borealis's own change: activity
        for title, due in (
            ("Send the joint proposal", today - timedelta(days=2)),
            ("Prepare the QBR deck", today + timedelta(days=5)),
        ):
            response = client.post(
                f"/api/v1/opportunities/{deal}/tasks",
                json={"title": title, "owner_user_id": me.user_id, "due_date": due.isoformat()},
                headers=me.headers,
            )
            assert response.status_code == 201, response.text
        workflow = client.post(
            "/api/v1/workflows",
            json={
                "kind": OPP,
                "name": "Discount desk",
                "stages": [
                    {"key": "negotiating", "name": "Negotiation"},
                    {"key": "closed", "name": "Closed won", "category": "won"},
                ],
                "transitions": [
                    {
                        "from": "negotiating",
                        "to": "closed",
                        "approvals": [{"company": "host", "role": "admin"}],
                    }
                ],
            },
            headers=me.headers,
        )
        assert workflow.status_code == 201, workflow.text
        big = record(client, me, OPP, "Contoso expansion", stage="negotiating")
        states = client.get(f"/api/v1/opportunities/{big}/workflows", headers=me.headers).json()
        wf_id = workflow.json()["id"]
        version = next(s["version"] for s in states if s["workflow"]["id"] == wf_id)
        moved = client.post(
            f"/api/v1/opportunities/{big}/workflows/{wf_id}/moves",
            json={"to": "closed", "note": "20% discount"},
            headers={**me.headers, "If-Match": f'"{version}"'},
        )
        assert moved.status_code == 201, moved.text
    return {"me": me, "names": names, "deal": deal}


def test_a_busy_home_shows_every_section_and_accepting_updates_my_partners(
    browser: Browser, live_server: LiveServer, screenshots: Path, visitors: list[Visitor]
) -> None:
    today = date.today()  # the server's day too; every date asserted is computed from it
    setup = _busy_company(live_server, today)
    names = setup["names"]
    aurora = Visitor("Aurora", browser, live_server.url, screenshots)
    visitors.append(aurora)
    aurora.sign_in(setup["me"].email)
    page = aurora.go("/")

    for heading in (
        "My open pipeline with partners",
        "Tasks due",
        "Invitations and nominations waiting",
        "Approvals waiting",
        "My partners",
        "Recent activity on my records",
    ):
        expect(
            page.get_by_role("heading", name=re.compile(rf"^{re.escape(heading)}"))
        ).to_be_visible()
    pipeline = page.locator("#pipeline")
    expect(pipeline).to_contain_text("USD 48,000")
    expect(pipeline.get_by_role("link", name="Northwind rollout")).to_be_visible()
    # a stage the company's new workflow does not have is still named, not keyed
    expect(pipeline).to_contain_text("Northwind · Propose")
    tasks = page.locator("#tasks li")
    expect(tasks.nth(0)).to_contain_text("Send the joint proposal")
    expect(tasks.nth(0)).to_contain_text("Overdue")
    expect(tasks.nth(0)).to_contain_text(_day(today - timedelta(days=2)))
    expect(tasks.nth(1)).to_contain_text(f"Due {_day(today + timedelta(days=5))}")
    approvals = page.locator("#approvals")
    expect(approvals).to_contain_text("Contoso expansion")
    expect(approvals).to_contain_text("Negotiation")
    expect(approvals).to_contain_text("Closed won")
    expect(page.locator("#activity")).to_contain_text("Northwind rollout")
    health = page.locator("#partners table")
    expect(health).to_contain_text(names["Borealis"])
    expect(page.locator("#partners-count")).to_have_text("1")
    expect(page.locator("#incoming-count")).to_have_text("1")
    assert serious_violations(page) == []
    aurora.shots("home-busy")

    # accept Cirrus from home: the counters change in place, the page is not reloaded
    page.evaluate("() => { window.__sameDocument = true; }")
    invitation = page.locator("#waiting .partnership", has_text=names["Cirrus"])
    aurora.click(invitation.get_by_role("button", name="Accept"))
    expect(page.locator("#waiting .partnership", has_text=names["Cirrus"])).to_contain_text(
        f"You are now partners with {names['Cirrus']}."
    )
    expect(page.locator("#partners-count")).to_have_text("2")
    expect(page.locator("#incoming-count")).to_have_text("0")
    assert page.evaluate("() => window.__sameDocument === true")
    # the new partnership's destructive action waits behind its "More" menu
    accepted = page.locator("#waiting .partnership", has_text=names["Cirrus"])
    expect(accepted.get_by_role("button", name="End partnership…")).to_be_hidden()
    assert serious_violations(page) == []


def test_end_partnership_is_behind_a_menu_and_asks_first(
    browser: Browser, live_server: LiveServer, screenshots: Path, visitors: list[Visitor]
) -> None:
    setup = _busy_company(live_server, date.today())
    names = setup["names"]
    aurora = Visitor("Aurora", browser, live_server.url, screenshots)
    visitors.append(aurora)
    aurora.sign_in(setup["me"].email)
    page = aurora.go("/network")
    row = page.locator("#partners .partnership", has_text=names["Borealis"])
    end_item = row.get_by_role("button", name="End partnership…")
    expect(end_item).to_be_hidden()  # no red button on the row: it is in the menu
    expect(page.locator("#partners-count")).to_have_text("1")

    row.locator("summary", has_text="More").click()
    expect(end_item).to_be_visible()
    end_item.click()
    dialog = page.get_by_role("dialog", name=f"End the partnership with {names['Borealis']}?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("stop being partners")
    assert serious_violations(page) == []
    aurora.shots("home-end-partnership-dialog")

    dialog.get_by_role("button", name="Keep the partnership").click()
    expect(dialog).to_be_hidden()
    expect(row).to_contain_text("Active")
    aurora.go("/network")  # nothing changed on the server either
    row = page.locator("#partners .partnership", has_text=names["Borealis"])
    expect(row).to_contain_text("Active")

    row.locator("summary", has_text="More").click()
    row.get_by_role("button", name="End partnership…").click()
    dialog = page.get_by_role("dialog", name=f"End the partnership with {names['Borealis']}?")
    aurora.click(dialog.get_by_role("button", name="End partnership", exact=True))
    ended = page.locator(".partnership", has_text=names["Borealis"])
    expect(ended).to_contain_text(f"Your partnership with {names['Borealis']} has ended.")
    expect(ended).to_contain_text("Ended")
    expect(page.locator("#partners-count")).to_have_text("0")
    expect(page.locator("#history-count")).to_have_text("1")
    aurora.go("/")
    expect(page.locator("#partners-count")).to_have_text("0")


def test_a_new_company_home_says_what_to_do_next(
    browser: Browser, live_server: LiveServer, screenshots: Path, visitors: list[Visitor]
) -> None:
    suffix = uuid.uuid4().hex[:6]
    newcomer = Visitor("Newcomer", browser, live_server.url, screenshots)
    visitors.append(newcomer)
    newcomer.sign_up(
        f"Home Fresh {suffix}",
        f"fresh-{suffix}.example",
        "Nia Fresh",
        f"nia@fresh-{suffix}.example",
    )
    page = newcomer.page
    expect(page.locator("#get-started")).to_be_visible()
    expect(page.locator("#pipeline")).to_contain_text("No open opportunities yet.")
    expect(page.locator("#partners").get_by_role("link", name="Invite a partner")).to_be_visible()
    expect(page.locator("#tasks")).to_contain_text("No open tasks for you.")
    expect(page.locator("#activity")).to_contain_text("No activity yet.")
    assert serious_violations(page) == []
    newcomer.shots("home-new")
