"""Every invitation tells the invited company's deciders, in the app and by e-mail, with the
invitation view only (never a field value); the inviter hears the answer."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.fixtures.activity import notifications_of, set_email
from tests.fixtures.builders import Member, make_colleague, make_company, make_partnership
from tests.fixtures.cosell import record
from tests.fixtures.pipeline import make_lead, nominate
from tests.fixtures.records import OPPS, create_record, fill_space, put_template
from tests.fixtures.smtp import Inbox, text_of

CANARY_AMOUNT = 7373737
CANARY_NOTE = "CANARY-PRIVATE-NOTE"
CANARY_SHARED = "CANARY-SHARED-NOTE"  # shared with participants: not with an invited company
CANARIES = [re.compile(r"7[,. ]?373[,. ]?737"), re.compile("canary", re.IGNORECASE)]


def _clean(*texts: str) -> None:
    for text in texts:
        for pattern in CANARIES:
            assert not pattern.search(text), f"a field value leaked: {text[:500]}"


def _acme_with_private_deal(client: TestClient) -> tuple[Member, str]:
    acme = make_company(client, "Acme")
    put_template(
        client,
        acme,
        {"key": "amount", "visibility": "private"},
        {"key": "note", "label": "Note", "type": "text", "visibility": "private"},
        {"key": "shared_note", "label": "Shared", "type": "text", "visibility": "participants"},
    )
    deal = create_record(client, acme, "Data platform")
    fill_space(
        client, acme, deal, amount=CANARY_AMOUNT, note=CANARY_NOTE, shared_note=CANARY_SHARED
    )
    return acme, deal


def test_a_record_invitation_notifies_the_invited_deciders_with_the_invitation_view_only(
    client: TestClient, inbox: Inbox
) -> None:
    acme, deal = _acme_with_private_deal(client)
    globex = make_company(client, "Globex")
    globex_member = make_colleague(client, globex, "member", inbox=inbox)
    globex_manager = make_colleague(client, globex, "manager", inbox=inbox)
    inbox.clear()
    invited = client.post(
        f"{OPPS}/{deal}/participants", json={"company_id": globex.company_id}, headers=acme.headers
    )
    assert invited.status_code == 201, invited.text

    for decider in (globex, globex_manager):
        [told] = notifications_of(client, decider)
        assert told["event"] == "invitation"
        assert told["record_title"] == "Data platform"
        assert told["text"].endswith("invited your company to join the opportunity “Data platform”")
        assert "(Acme)" in told["text"]
        assert told["url"] == f"/opportunities/{deal}"
        _clean(str(told))
        mail = inbox.wait_for(decider.email)
        assert "invited your company to join the opportunity" in mail["Subject"]
        assert re.search(rf"/opportunities/{deal}\s", text_of(mail))
        _clean(mail["Subject"], text_of(mail))
    # a member does not decide: nothing for them
    assert notifications_of(client, globex_member) == []
    assert inbox.to(globex_member.email) == []
    # the record itself stays hidden until Globex accepts
    assert client.get(f"{OPPS}/{deal}", headers=globex.headers).status_code == 404
    unread = client.get("/api/v1/notifications/unread-count", headers=globex.headers)
    assert unread.json() == {"unread": 1}


def test_the_inviter_hears_the_answer_once_and_a_declined_invitation_leaves_the_list(
    client: TestClient, inbox: Inbox
) -> None:
    acme, deal = _acme_with_private_deal(client)
    acme_rep = make_colleague(client, acme, "manager", inbox=inbox)
    globex = make_company(client, "Globex")
    initech = make_company(client, "Initech")
    for partner in (globex, initech):
        invited = client.post(
            f"{OPPS}/{deal}/participants",
            json={"company_id": partner.company_id},
            headers=acme_rep.headers,
        )
        assert invited.status_code == 201, invited.text
    accepted = client.post(
        f"{OPPS}/{deal}/participants/{globex.company_id}/accept", headers=globex.headers
    )
    assert accepted.status_code == 200, accepted.text
    declined = client.delete(
        f"{OPPS}/{deal}/participants/{initech.company_id}", headers=initech.headers
    )
    assert declined.status_code == 204, declined.text

    told = {n["event"]: n for n in notifications_of(client, acme_rep)}
    assert sorted(told) == ["invitation_accepted", "invitation_declined"]
    accepted_text = told["invitation_accepted"]["text"]
    assert accepted_text.endswith(
        "(Globex) accepted your invitation to the opportunity “Data platform”"
    )
    assert "(Initech) declined your invitation" in told["invitation_declined"]["text"]
    # Acme's admin, who did not invite, hears that Globex joined
    assert [n["event"] for n in notifications_of(client, acme)] == ["joined"]
    # Initech's invitation is gone from its list once it answered
    assert notifications_of(client, initech) == []


def test_declining_an_invitation_tells_the_inviter(client: TestClient, inbox: Inbox) -> None:
    acme, deal = _acme_with_private_deal(client)
    globex = make_company(client, "Globex")
    invited = client.post(
        f"{OPPS}/{deal}/participants", json={"company_id": globex.company_id}, headers=acme.headers
    )
    assert invited.status_code == 201, invited.text
    declined = client.post(
        f"{OPPS}/{deal}/participants/{globex.company_id}/decline",
        json={"reason": "Not our segment"},
        headers=globex.headers,
    )
    assert declined.status_code == 204, declined.text
    [told] = notifications_of(client, acme)
    assert told["event"] == "invitation_declined"
    assert "declined your invitation to the opportunity “Data platform”" in told["text"]


def test_partnership_invitations_and_answers_notify_in_app_and_by_email(
    client: TestClient, inbox: Inbox
) -> None:
    acme = make_company(client, "Acme")
    globex = make_company(client, "Globex")
    initech = make_company(client, "Initech")
    set_email(client, initech, "off")
    inbox.clear()
    asked = client.post(
        "/api/v1/partnerships",
        json={"company_id": globex.company_id, "message": "Co-sell in EMEA?"},
        headers=acme.headers,
    )
    assert asked.status_code == 201, asked.text
    [told] = notifications_of(client, globex)
    assert told["event"] == "partnership_invitation"
    assert told["text"].endswith("(Acme) wants to partner with your company on Coterie")
    assert told["excerpt"] == "Co-sell in EMEA?"
    assert told["url"] == "/network"
    mail = inbox.wait_for(globex.email)
    assert "wants to partner" in mail["Subject"]
    assert "Co-sell in EMEA?" in text_of(mail)
    assert re.search(r"/network\s", text_of(mail))

    accepted = client.post(
        f"/api/v1/partnerships/{asked.json()['id']}/accept", headers=globex.headers
    )
    assert accepted.status_code == 200, accepted.text
    [answer] = notifications_of(client, acme)
    assert answer["event"] == "partnership_accepted"
    # Globex's own invitation notice now says it was answered
    [invitation] = notifications_of(client, globex)
    assert invitation["text"].endswith("wants to partner with your company on Coterie (accepted)")
    assert answer["text"].endswith("(Globex) accepted your company's partnership invitation")

    # a user who turned e-mail off still sees the bell, and gets no e-mail
    second = make_partnership(client, acme, initech, accept=False)
    assert [n["event"] for n in notifications_of(client, initech)] == ["partnership_invitation"]
    declined = client.post(f"/api/v1/partnerships/{second}/decline", headers=initech.headers)
    assert declined.status_code == 200, declined.text
    assert inbox.to(initech.email) == []
    events = [n["event"] for n in notifications_of(client, acme)]
    assert events == ["partnership_declined", "partnership_accepted"]


def test_a_lead_nomination_and_a_plan_invitation_notify_the_partner(
    client: TestClient, inbox: Inbox
) -> None:
    acme = make_company(client, "Acme")
    globex = make_company(client, "Globex")
    make_partnership(client, acme, globex)
    lead = make_lead(client, acme, "Warehouse refresh", customer_name="Umbrella")
    nominate(client, acme, lead, globex, note="Your region")
    [nominated] = [n for n in notifications_of(client, globex) if n["event"] == "nomination"]
    assert nominated["event"] == "nomination"
    assert nominated["text"].endswith("nominated a lead to your company: “Warehouse refresh”")
    assert nominated["url"] == "/leads/nominations"
    assert "Warehouse refresh" in inbox.wait_for(globex.email)["Subject"]

    plan = record(client, acme, "plan", "FY27 joint plan")
    invited = client.post(
        f"/api/v1/plans/{plan}/participants",
        json={"company_id": globex.company_id},
        headers=acme.headers,
    )
    assert invited.status_code == 201, invited.text
    newest = notifications_of(client, globex)[0]
    assert newest["event"] == "invitation"
    assert newest["text"].endswith(
        "invited your company to join the joint sales plan “FY27 joint plan”"
    )
    assert newest["url"] == f"/plans/{plan}"
    # once Globex joins, the plan notification keeps its title (it may read the plan now)
    join_url = f"/api/v1/plans/{plan}/participants/{globex.company_id}/accept"
    assert client.post(join_url, headers=globex.headers).status_code == 200
    assert notifications_of(client, globex)[0]["record_title"] == "FY27 joint plan"
