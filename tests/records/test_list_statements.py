"""A list page's statements do not grow with the partners on it: their templates' labels and
their companies' names are read in one statement, parsed templates come from the cache."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.fixtures.builders import Member, make_company
from tests.fixtures.records import OPPS, create_record, fill_space, put_template, share_record
from tests.fixtures.statements import statements


def _partner_deal(client: TestClient, viewer: Member, n: int) -> None:
    partner = make_company(client, f"Labelled Partner {n}")
    put_template(
        client,
        partner,
        {"key": "margin", "type": "number", "label": f"Margin {n}", "visibility": "participants"},
    )
    record_id = create_record(client, partner, f"Deal {n}")
    fill_space(client, partner, record_id, margin=n)
    share_record(client, partner, record_id, viewer)


def _page(client: TestClient, viewer: Member) -> list[dict[str, Any]]:
    response = client.get(OPPS, headers=viewer.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_a_list_page_reads_as_many_statements_for_one_partner_as_for_four(
    client: TestClient, engine: Engine
) -> None:
    viewer = make_company(client, "Labelled Viewer")
    _partner_deal(client, viewer, 1)
    _page(client, viewer)
    with statements(engine) as one:
        _page(client, viewer)
    for n in (2, 3, 4):
        _partner_deal(client, viewer, n)
    _page(client, viewer)
    with statements(engine) as four:
        items = _page(client, viewer)

    labels = {
        space["labels"]["margin"]
        for item in items
        for space in item["spaces"]
        if not space["is_mine"]
    }
    assert labels == {"Margin 1", "Margin 2", "Margin 3", "Margin 4"}
    assert len(four) == len(one), four
