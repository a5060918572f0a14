"""The timeline shows each company only the changes it may see *now*: a partner's private field
stays out until shared and goes again when unshared; hide-private drops my own private ones."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.fixtures.activity import Deal, comment, make_deal, timeline_of, url
from tests.fixtures.records import fill_space, put_template
from tests.fixtures.smtp import Inbox
from tests.fixtures.versions import matching

CANARY = 777123


def _fields(items: list[dict[str, Any]]) -> list[str]:
    return [i["change"]["field"] for i in items if i["type"] == "change"]


def _margin_change(client: TestClient, inbox: Inbox) -> Deal:
    deal = make_deal(client, inbox)
    fill_space(client, deal.acme, deal.record_id, margin=CANARY, stage="Proposal")
    return deal


def _share_margin(client: TestClient, deal: Deal, visibility: str) -> None:
    put_template(
        client,
        deal.acme,
        {"key": "stage", "visibility": "participants"},
        {"key": "amount", "visibility": "private"},
        {"key": "margin", "label": "Margin", "type": "number", "visibility": visibility},
    )


def test_core_changes_participants_and_shared_fields_show_to_every_participant(
    client: TestClient, inbox: Inbox
) -> None:
    deal = _margin_change(client, inbox)
    response = client.patch(
        url(deal.record_id),
        json={"title": "Bigger deal"},
        headers=matching(client, deal.acme, url(deal.record_id)),
    )
    assert response.status_code == 200, response.text
    items = timeline_of(client, deal.globex, deal.record_id)
    texts = [i["text"] for i in items]
    assert texts[0].endswith("changed Title: Big deal → Bigger deal")
    assert "Globex joined" in texts
    assert "Globex was invited" in texts
    stage = next(i for i in items if i["type"] == "change" and i["change"]["field"] == "stage")
    assert stage["change"]["company_name"] == "Acme"
    assert (stage["change"]["old_display"], stage["change"]["new_display"]) == (
        "Discovery",
        "Proposal",
    )


def test_a_partners_private_field_change_appears_only_while_it_is_shared(
    client: TestClient, inbox: Inbox
) -> None:
    deal = _margin_change(client, inbox)
    assert "margin" in _fields(timeline_of(client, deal.acme, deal.record_id))
    hidden = timeline_of(client, deal.globex, deal.record_id)
    assert "margin" not in _fields(hidden)
    assert str(CANARY) not in str(hidden)
    assert "777,123" not in str(hidden)

    _share_margin(client, deal, "participants")
    shown = timeline_of(client, deal.globex, deal.record_id)
    margin = next(i for i in shown if i["type"] == "change" and i["change"]["field"] == "margin")
    assert margin["change"]["new_display"] == "777,123"
    assert margin["change"]["label"] == "Margin"

    _share_margin(client, deal, "private")
    again = timeline_of(client, deal.globex, deal.record_id)
    assert "margin" not in _fields(again)
    assert str(CANARY) not in str(again)


def test_hide_private_drops_my_own_private_changes(client: TestClient, inbox: Inbox) -> None:
    deal = _margin_change(client, inbox)
    response = client.patch(
        "/api/v1/me/preferences", json={"hide_private_fields": True}, headers=deal.acme.headers
    )
    assert response.status_code == 200, response.text
    items = timeline_of(client, deal.acme, deal.record_id)
    assert "margin" not in _fields(items)
    assert "stage" in _fields(items)
    assert str(CANARY) not in str(items)


def test_a_partner_that_left_takes_its_space_history_with_it(
    client: TestClient, inbox: Inbox
) -> None:
    deal = make_deal(client, inbox)
    fill_space(client, deal.globex, deal.record_id, stage="Qualified")
    assert "stage" in _fields(timeline_of(client, deal.acme, deal.record_id))
    left = client.delete(
        url(deal.record_id, f"/participants/{deal.globex.company_id}"), headers=deal.globex.headers
    )
    assert left.status_code == 204, left.text
    items = timeline_of(client, deal.acme, deal.record_id)
    assert "Qualified" not in str(items)
    assert "Globex left" in [i["text"] for i in items]


def test_comments_interleave_and_the_cursor_walks_the_whole_timeline(
    client: TestClient, inbox: Inbox
) -> None:
    deal = make_deal(client, inbox)
    for n in range(4):
        comment(client, deal.acme, deal.record_id, f"note {n}")
        fill_space(client, deal.acme, deal.record_id, stage=f"Stage {n}")
    everything = timeline_of(client, deal.acme, deal.record_id)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = client.get(
            url(deal.record_id, "/timeline"), params=params, headers=deal.acme.headers
        ).json()
        seen.extend(i["id"] for i in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [i["id"] for i in everything]
    assert len(seen) == len(set(seen))
    assert [i["comment"]["body"] for i in everything if i["type"] == "comment"] == [
        "note 3",
        "note 2",
        "note 1",
        "note 0",
    ]
    bad = client.get(
        url(deal.record_id, "/timeline"), params={"cursor": "nope"}, headers=deal.acme.headers
    )
    assert bad.status_code == 422
