"""What notifications about ideas quote, read again as the recipient: the idea's title, for all
the ideas of one list at once (a list of many idea notifications costs what a list of one does)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.fixtures.cosell import API
from tests.fixtures.ideas import propose, world
from tests.fixtures.smtp import Inbox
from tests.fixtures.statements import statements


def _quoted(items: list[dict[str, Any]]) -> list[str]:
    return sorted(n["excerpt"] for n in items if n["event"] == "idea_proposed")


def test_a_list_of_idea_notifications_reads_the_ideas_at_once(
    client: TestClient, inbox: Inbox, engine: Engine
) -> None:
    w = world(client, inbox, with_workflow=False)
    url = f"{API}/notifications"
    propose(client, w.a_seller, w.program_id, title="Idea 0")
    with statements(engine) as few:
        one = client.get(url, headers=w.host.headers).json()["items"]
    for n in range(1, 5):
        propose(client, w.a_seller, w.program_id, title=f"Idea {n}")
    with statements(engine) as many:
        five = client.get(url, headers=w.host.headers).json()["items"]

    assert _quoted(one) == ["Idea: Idea 0"]
    assert _quoted(five) == [f"Idea: Idea {n}" for n in range(5)]
    assert len(many) == len(few), many
