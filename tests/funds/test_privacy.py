"""Leak tests: the funding company's private notes, its approval reasoning and its budget's
total, and another partner's request, never reach a partner, on every read path funds adds:
the API (budgets, allocations, requests, notes, claims, return on the fund), the pages,
notifications (list, page, e-mail)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.fixtures.builders import Member
from tests.fixtures.funds import FUNDS, act, allot, budget, fund_request, network, signed_in
from tests.fixtures.funds import claim as claim_funds
from tests.fixtures.smtp import Inbox

NOTE = "CANARY-FUNDER-NOTE-7331"
REASON_NOTE = "CANARY-APPROVAL-REASONING-9152"
OTHER_ACTIVITY = "CANARY-OTHER-PARTNER-ACTIVITY"
OTHER_DESCRIPTION = "CANARY-OTHER-PARTNER-PLAN"
TOTAL = ("987654.32", "987,654.32")
OTHER_CAP = ("4242.42", "4,242.42")
OTHER_AMOUNT = ("7373.73", "7,373.73")
CANARIES = (NOTE, REASON_NOTE, OTHER_ACTIVITY, OTHER_DESCRIPTION, *TOTAL, *OTHER_CAP, *OTHER_AMOUNT)


def _clean(text: str, where: str) -> None:
    for canary in CANARIES:
        assert canary not in text, f"{canary} leaked in {where}"


def _read(client: TestClient, who: Member, url: str, expect: int = 200) -> str:
    response = client.get(url, headers=who.headers)
    assert response.status_code == expect, (url, response.status_code, response.text[:300])
    return response.text


def _page(app: FastAPI, who: Member, url: str, expect: int = 200) -> str:
    """A page as `who` sees it in the browser (signed in through the login form)."""
    with signed_in(app, who) as browser:
        response = browser.get(url)
    assert response.status_code == expect, (url, response.status_code)
    return response.text


def test_a_partner_never_sees_the_funders_private_data_nor_another_partners_request(
    app: FastAPI, client: TestClient, inbox: Inbox
) -> None:
    net = network(client)
    b = budget(client, net, TOTAL[0])
    allot(client, net.host, b["id"], net.partner, cap="5000.00")
    allot(client, net.host, b["id"], net.other, cap=OTHER_CAP[0])
    mine = fund_request(client, net.partner, b["id"], "2000.00", submit=True)
    theirs = fund_request(
        client, net.other, b["id"], OTHER_AMOUNT[0], submit=True,
        activity=OTHER_ACTIVITY, description=OTHER_DESCRIPTION,
    )  # fmt: skip
    approved = act(
        client, net.host, f"{FUNDS}/requests/{mine['id']}/approve",
        {"approved_amount": "1500.00", "message": "Approved for the first two webinars",
         "internal_note": REASON_NOTE},
    )  # fmt: skip
    assert approved.status_code == 200, approved.text
    noted = client.post(f"{FUNDS}/requests/{mine['id']}/notes", json={"body": NOTE},
                        headers=net.host.headers)  # fmt: skip
    assert noted.status_code == 201, noted.text
    client.post(f"{FUNDS}/requests/{theirs['id']}/notes", json={"body": NOTE},
                headers=net.host.headers)  # fmt: skip
    claim = claim_funds(client, net.partner, mine["id"], "1000.00").json()
    act(client, net.host, f"{FUNDS}/claims/{claim['id']}/approve")

    # the funder itself sees its notes and totals (the canaries are really there)
    host_notes = _read(client, net.host, f"{FUNDS}/requests/{mine['id']}/notes")
    assert NOTE in host_notes
    assert REASON_NOTE in host_notes
    assert TOTAL[0] in _read(client, net.host, f"{FUNDS}/budgets/{b['id']}")
    assert REASON_NOTE in _page(app, net.host, f"/funds/requests/{mine['id']}")

    partner = net.partner
    api_reads = [
        f"{FUNDS}/budgets",
        f"{FUNDS}/budgets/{b['id']}",
        f"{FUNDS}/budgets/{b['id']}/allocations",
        f"{FUNDS}/requests",
        f"{FUNDS}/requests?budget_id={b['id']}",
        f"{FUNDS}/requests/{mine['id']}",
        f"{FUNDS}/requests/{mine['id']}/notes",
        f"{FUNDS}/requests/{mine['id']}/claims",
        f"{FUNDS}/claims",
        f"{FUNDS}/claims/{claim['id']}",
        "/api/v1/notifications",
    ]
    for url in api_reads:
        _clean(_read(client, partner, url), url)
    assert _read(client, partner, f"{FUNDS}/requests/{mine['id']}/notes") == '{"items":[]}'
    for hidden in (
        f"{FUNDS}/requests/{theirs['id']}",
        f"{FUNDS}/requests/{theirs['id']}/notes",
        f"{FUNDS}/requests/{theirs['id']}/claims",
        f"{FUNDS}/budgets/{b['id']}/roi",
    ):
        _clean(_read(client, partner, hidden, 404), hidden)
    for page in ("/funds", f"/funds/budgets/{b['id']}", f"/funds/requests/{mine['id']}",
                 "/notifications"):  # fmt: skip
        _clean(_page(app, partner, page), page)
    _clean(_page(app, partner, f"/funds/requests/{theirs['id']}", 404), "hidden page")
    # what the partner does see: its own decision, in its own words
    own = client.get(f"{FUNDS}/requests/{mine['id']}", headers=partner.headers).json()
    assert own["approved_amount"] == "1500.00"
    assert own["decision_message"] == "Approved for the first two webinars"
    notifications = client.get("/api/v1/notifications", headers=partner.headers).json()["items"]
    assert any(n["url"] == f"/funds/requests/{mine['id']}" for n in notifications)
    for message in inbox.messages:
        _clean(message.as_string(), f"e-mail to {message['To']}")

    # the other partner sees neither the first partner's request nor the funder's notes
    other = net.other
    assert _read(client, other, f"{FUNDS}/requests/{mine['id']}", 404)
    listed: list[dict[str, Any]] = client.get(f"{FUNDS}/requests", headers=other.headers).json()[
        "items"
    ]
    assert [r["id"] for r in listed] == [theirs["id"]]
    assert NOTE not in _read(client, other, f"{FUNDS}/requests/{theirs['id']}/notes")


def test_a_shared_total_is_shown_to_partners_with_a_share_only(client: TestClient) -> None:
    net = network(client)
    b = budget(client, net, "20000.00", shared=True)
    allot(client, net.host, b["id"], net.partner)
    seen = client.get(f"{FUNDS}/budgets/{b['id']}", headers=net.partner.headers).json()
    assert (seen["total"], seen["remaining"]) == ("20000.00", "20000.00")
    assert client.get(f"{FUNDS}/budgets/{b['id']}", headers=net.other.headers).status_code == 404


def test_row_level_security_hides_fund_rows_from_other_companies(
    client: TestClient, engine: Any
) -> None:
    """On PostgreSQL the database itself, read as another company, finds none of the rows
    (a second line behind `coterie.funds.access`; the app's role is subject to the policies)."""
    import uuid

    from sqlalchemy import func, select, text

    from coterie.models.funds import FundAllocation, FundBudget, FundNote, FundRequest

    if engine.dialect.name != "postgresql":
        pytest.skip("row-level security is PostgreSQL's")
    net = network(client)
    b = budget(client, net)
    allot(client, net.host, b["id"], net.partner)
    req = fund_request(client, net.partner, b["id"], submit=True)
    client.post(f"{FUNDS}/requests/{req['id']}/notes", json={"body": NOTE},
                headers=net.host.headers)  # fmt: skip

    def seen_by(company_id: str) -> list[int]:
        with engine.connect() as connection:
            connection.execute(
                text("SELECT set_config('app.company_id', :c, true)"), {"c": company_id}
            )
            return [
                int(
                    connection.execute(
                        select(func.count()).select_from(model).where(*where)
                    ).scalar_one()
                )
                for model, where in (
                    (FundBudget, [FundBudget.id == uuid.UUID(b["id"])]),
                    (FundAllocation, [FundAllocation.budget_id == uuid.UUID(b["id"])]),
                    (FundRequest, [FundRequest.id == uuid.UUID(req["id"])]),
                    (FundNote, [FundNote.request_id == uuid.UUID(req["id"])]),
                )
            ]

    assert seen_by(net.host.company_id) == [1, 1, 1, 1]
    assert seen_by(net.partner.company_id) == [1, 1, 1, 0]  # never the funder's note
    assert seen_by(net.other.company_id) == [0, 0, 0, 0]
