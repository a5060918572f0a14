"""Inviting someone not yet on Coterie, in a real browser: the owner of a shared opportunity
invites an unknown address by e-mail; the e-mail arrives (real SMTP); the invitee follows the
link, signs up their company with the fields pre-filled and lands on the record's invitation
view (no field values), accepts and then sees the shared fields; the inviter is notified. A bell
notification exists for a partnership invitation and for a lead nomination. Nothing the invitee
receives, page or e-mail, carries the inviter's private canaries; axe finds no serious
violation on the invitation pages."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.browser.axe import serious_violations
from tests.browser.helpers import (
    LiveServer,
    Visitor,
    amount_patterns,
    canary_patterns,
)
from tests.fixtures.builders import PASSWORD, make_company, make_partnership
from tests.fixtures.cosell import fill, record
from tests.fixtures.pipeline import make_lead, nominate
from tests.fixtures.records import put_template
from tests.fixtures.smtp import Inbox, link_in, text_of

pytestmark = pytest.mark.xdist_group("browser")

CANARY_AMOUNT = 7373737
CANARY_NOTE = "CANARY-PRIVATE-NOTE"
SHARED = "Joint workshop booked for March"
CANARIES = [*amount_patterns(str(CANARY_AMOUNT)), *canary_patterns(CANARY_NOTE)]


def _no_serious(visitor: Visitor) -> None:
    found = serious_violations(visitor.page)
    assert found == [], "\n".join(found)


def test_an_unknown_address_signs_up_from_the_e_mail_and_joins_the_opportunity(
    browser: Browser,
    live_server: LiveServer,
    screenshots: Path,
    visitors: list[Visitor],
    inbox: Inbox,
) -> None:
    suffix = uuid.uuid4().hex[:6]
    with httpx.Client(base_url=live_server.url, timeout=10) as api:
        client: Any = api
        acme = make_company(client, f"Invites Acme {suffix}")
        put_template(
            client,
            acme,
            {"key": "amount", "visibility": "private"},
            {"key": "note", "label": "Private note", "type": "text", "visibility": "private"},
            {
                "key": "shared_note",
                "label": "Next step",
                "type": "text",
                "visibility": "participants",
            },
        )
        deal = record(client, acme, "opportunity", "Data platform rollout")
        fill(
            client,
            acme,
            "opportunity",
            deal,
            amount=CANARY_AMOUNT,
            note=CANARY_NOTE,
            shared_note=SHARED,
        )

    owner = Visitor("owner", browser, live_server.url, screenshots)
    visitors.append(owner)
    owner.sign_in(acme.email)
    owner.go(f"/opportunities/{deal}")
    owner.click(owner.page.get_by_role("button", name="Invite by e-mail"))
    dialog = owner.page.get_by_role("dialog", name="Invite by e-mail")
    expect(dialog).to_be_visible()
    invitee = f"sam.{suffix}@northwind-{suffix}.example"
    dialog.get_by_label("Their name").fill("Sam Rivera")
    dialog.get_by_label("Their work e-mail").fill(invitee)
    dialog.get_by_label("Their company (optional)").fill(f"Northwind {suffix}")
    dialog.get_by_label("Message (optional)").fill("Let's win this one together.")
    owner.shots("invites-dialog")
    owner.click(dialog.get_by_role("button", name="Send invitation"))
    expect(owner.flash()).to_contain_text("Invitation e-mailed to Sam Rivera")
    owner.shots("invites-sent-list")
    _no_serious(owner)

    mail = inbox.wait_for(invitee)
    body = text_of(mail)
    assert "Data platform rollout" in mail["Subject"]
    for pattern in CANARIES:
        assert not pattern.search(mail["Subject"] + body), "a private value reached the e-mail"
    link = urlsplit(link_in(mail, "/invites/accept"))

    sam = Visitor("invitee", browser, live_server.url, screenshots, record=True)
    visitors.append(sam)
    sam.go(f"{link.path}?{link.query}")
    expect(sam.page.get_by_role("heading", level=1)).to_contain_text("Data platform rollout")
    expect(sam.page.get_by_label("Company name")).to_have_value(f"Northwind {suffix}")
    expect(sam.page.get_by_label("Company domain")).to_have_value(f"northwind-{suffix}.example")
    expect(sam.page.get_by_label("Work e-mail")).to_have_value(invitee)
    expect(sam.page.get_by_label("Work e-mail")).not_to_be_editable()
    sam.shots("invites-signup")
    _no_serious(sam)
    sam.page.get_by_label("Password").fill(PASSWORD)
    sam.click(sam.page.get_by_role("button", name="Join Coterie and see the invitation"))

    expect(sam.page.get_by_role("heading", level=1)).to_have_text("Data platform rollout")
    expect(sam.page.get_by_role("button", name="Accept and join")).to_be_visible()
    expect(sam.page.get_by_text(SHARED)).to_have_count(0)
    sam.shots("invites-invitation-view")
    _no_serious(sam)
    expect(sam.page.locator("#notification-bell .count")).to_have_text("1")
    sam.go("/notifications")
    expect(sam.page.locator("main")).to_contain_text(
        "invited your company to join the opportunity “Data platform rollout”"
    )
    sam.shots("invites-invitee-notifications")
    sam.go(f"/opportunities/{deal}")
    sam.click(sam.page.get_by_role("button", name="Accept and join"))
    expect(sam.page.locator("main")).to_contain_text(SHARED)
    sam.shots("invites-accepted-record")
    leaks = sam.recorder.leaks(CANARIES) if sam.recorder else []
    assert not leaks, "a canary reached the invitee:\n" + "\n".join(leaks[:5])

    owner.go("/notifications")
    expect(owner.page.locator("main")).to_contain_text(
        "accepted your invitation to the opportunity “Data platform rollout”"
    )
    owner.shots("invites-inviter-notifications")


def test_the_bell_tells_of_a_partnership_invitation_and_a_lead_nomination(
    browser: Browser, live_server: LiveServer, screenshots: Path, visitors: list[Visitor]
) -> None:
    suffix = uuid.uuid4().hex[:6]
    with httpx.Client(base_url=live_server.url, timeout=10) as api:
        client: Any = api
        acme = make_company(client, f"Bell Acme {suffix}")
        globex = make_company(client, f"Bell Globex {suffix}")
        initech = make_company(client, f"Bell Initech {suffix}")
        make_partnership(client, acme, globex)
        lead = make_lead(client, acme, "Warehouse refresh", customer_name="Umbrella")
        nominate(client, acme, lead, globex)
        make_partnership(client, initech, globex, accept=False)

    partner = Visitor("partner", browser, live_server.url, screenshots)
    visitors.append(partner)
    partner.sign_in(globex.email)
    partner.go("/notifications")
    main = partner.page.locator("main")
    expect(main).to_contain_text(f"(Bell Initech {suffix}) wants to partner with your company")
    expect(main).to_contain_text("nominated a lead to your company: “Warehouse refresh”")
    partner.shots("invites-bell-partnership-and-nomination")
    _no_serious(partner)
    partner.click(main.get_by_role("link", name="nominated a lead").first)
    expect(partner.page).to_have_url(f"{live_server.url}/leads/nominations")

    # the network page's "Invite by e-mail" dialog, and a link that cannot be used
    partner.go("/network")
    partner.click(partner.page.get_by_role("button", name="Invite by e-mail"))
    expect(partner.page.get_by_role("dialog", name="Invite by e-mail")).to_be_visible()
    partner.shots("invites-network-dialog")
    _no_serious(partner)
    stranger = Visitor("stranger", browser, live_server.url, screenshots)
    visitors.append(stranger)
    stranger.page.goto("/invites/accept?token=not-a-real-token")
    stranger.settle()
    expect(stranger.page.get_by_role("heading", level=1)).to_have_text("Invalid invitation link")
    stranger.shots("invites-link-invalid")
    _no_serious(stranger)
