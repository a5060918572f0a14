"""Nothing private to one company ever reaches another company's CRM, whatever the mapping
says; a partner's field flows into my CRM only while the partner shares it with my company."""

from __future__ import annotations

import json

import pytest
import requests
from fastapi import FastAPI
from fastapi.testclient import TestClient

from coterie.sync.connectors import salesforce
from tests.fakes.salesforce_api import FakeSalesforce
from tests.fixtures.builders import Member, make_company, make_partnership
from tests.fixtures.records import OPPS, fill_space, put_template, share_record
from tests.fixtures.sync import SALESFORCE_OPPORTUNITY, connect, run

SECRET = "floor price 18 percent"
SHARED = "joint workshop in March"


SENT: dict[str, list[str]] = {}


def _two_orgs(monkeypatch: pytest.MonkeyPatch) -> tuple[FakeSalesforce, FakeSalesforce]:
    """Two companies' orgs on their own hosts; every request body each one receives is kept."""
    mine, theirs = FakeSalesforce(), FakeSalesforce()
    theirs.instance_url = "https://bosk-systems.my.salesforce.com"
    SENT.clear()

    def keep(response: requests.Response, *args: object, **kwargs: object) -> None:
        body = response.request.body or b""
        text = body.decode() if isinstance(body, bytes) else str(body)
        SENT.setdefault(response.request.url or "", []).append(text)

    def session() -> requests.Session:
        http = requests.Session()
        http.mount(mine.instance_url, mine)
        http.mount(theirs.instance_url, theirs)
        http.hooks["response"].append(keep)
        return http

    monkeypatch.setattr(salesforce, "session_factory", session)
    return mine, theirs


def _everything_sent(org: FakeSalesforce) -> str:
    """All the org holds, and every request (address and body) it was sent, as one text."""
    held = json.dumps(org.records("Opportunity", include_deleted=True), default=str)
    requests_to_it = [
        f"{url} {body}" for url, bodies in SENT.items() if url.startswith(org.instance_url)
        for body in bodies
    ]  # fmt: skip
    assert requests_to_it, "the org received nothing: the test would prove nothing"
    return held + "\n".join(requests_to_it)


def _template(client: TestClient, who: Member, note_visibility: str) -> None:
    put_template(
        client,
        who,
        {"key": "amount", "visibility": "participants"},
        {"key": "margin_note", "label": "Margin note", "type": "text"},  # private
        {"key": "joint_note", "label": "Joint note", "type": "text", "visibility": note_visibility},
    )


def test_a_partner_s_private_values_never_reach_my_crm_and_unshared_ones_stop_at_once(
    app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    org_a, org_b = _two_orgs(monkeypatch)
    a, b = make_company(client, "Ayla Cloud"), make_company(client, "Bosk Systems")
    make_partnership(client, a, b)
    _template(client, a, "participants")
    response = client.post(
        OPPS,
        json={"title": "Umbrella platform", "fields": {
            "amount": 1000, "close_date": "2030-03-31", "stage": "Qualify",
            "margin_note": SECRET, "joint_note": SHARED}},
        headers=a.headers,
    )  # fmt: skip
    assert response.status_code == 201
    record_id = response.json()["id"]
    share_record(client, a, record_id, b)
    a_fields = [
        *SALESFORCE_OPPORTUNITY,
        {"local": "space.margin_note", "remote": "Description"},  # mine, into my own CRM
    ]
    # B's mapping asks for A's private note, as a tampered or stale mapping could
    b_fields = [
        {"local": "record.title", "remote": "Name"},
        {"local": "space.close_date", "remote": "CloseDate", "transform": {"kind": "date"}},
        {"local": "space.stage", "remote": "StageName"},
        {"local": f"partner.{a.company_id}.margin_note", "remote": "Description"},
        {"local": f"partner.{a.company_id}.joint_note", "remote": "NextStep"},
        {"local": f"partner.{a.company_id}.amount", "remote": "Amount"},
    ]
    connect(
        app, a, "salesforce",
        {"instance_url": org_a.instance_url, "access_token": org_a.access_token},
        {"opportunity": ("Opportunity", a_fields)},
    )  # fmt: skip
    b_connection = connect(
        app, b, "salesforce",
        {"instance_url": org_b.instance_url, "access_token": org_b.access_token},
        {"opportunity": ("Opportunity", b_fields)},
    )  # fmt: skip
    fill_space(client, b, record_id, close_date="2030-04-30", stage="Prospecting")
    run(app, b_connection)

    [mine] = org_a.records("Opportunity")
    assert mine["Description"] == SECRET  # my private value, in my own CRM
    [theirs] = org_b.records("Opportunity")
    assert theirs["NextStep"] == SHARED
    assert float(theirs["Amount"]) == 1000
    assert theirs["Description"] is None
    assert SECRET not in _everything_sent(org_b)

    _template(client, a, "private")  # A stops sharing the joint note
    fill_space(client, a, record_id, joint_note="new plan, not for partners", amount=1500)
    run(app, b_connection)
    [theirs] = org_b.records("Opportunity")
    assert theirs["NextStep"] is None  # it stopped flowing, and what was there is cleared
    assert float(theirs["Amount"]) == 1500  # what A still shares keeps flowing
    sent_to_b = _everything_sent(org_b)
    assert "not for partners" not in sent_to_b
    assert SECRET not in sent_to_b
