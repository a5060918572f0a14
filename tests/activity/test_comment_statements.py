"""A comment's cost grows gently with its recipients: each is still checked as their own
principal, but users, rules and the actor's name are read once for all of them."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.fixtures.activity import comment, notifications_of
from tests.fixtures.builders import make_company
from tests.fixtures.records import create_record, fill_space, share_record
from tests.fixtures.statements import statements

# the space owner's read, the gate's check and the comment's, as each; the e-mail's outbox row
PER_RECIPIENT = 7


def _delivery(statement: str) -> bool:
    """A statement of the worker's delivery, which the tests' immediate jobs run at commit: the
    request's own cost is the outbox INSERT, not the sending."""
    return ("outbox_messages" in statement and not statement.startswith("INSERT")) or (
        "UPDATE notifications SET" in statement
    )


def _request_own(statement: str) -> bool:
    return not _delivery(statement)


def test_each_more_recipient_of_a_comment_costs_a_few_statements(
    client: TestClient, engine: Engine
) -> None:
    owner = make_company(client, "Statements Owner")
    partners = [make_company(client, f"Statements Partner {i}") for i in range(4)]
    alone = create_record(client, owner, "With one partner")
    share_record(client, owner, alone, partners[0])
    crowded = create_record(client, owner, "With four partners")
    share_record(client, owner, crowded, *partners)
    fill_space(client, partners[0], alone, owner=partners[0].user_id)
    for partner in partners:  # a comment concerns the owners of the partners' spaces
        fill_space(client, partner, crowded, owner=partner.user_id)

    with statements(engine, keep=_request_own) as few:
        comment(client, owner, alone, "Hello one")
    with statements(engine, keep=_request_own) as many:
        comment(client, owner, crowded, "Hello four")

    for partner in partners:
        titles = [n["record_title"] for n in notifications_of(client, partner)]
        assert "With four partners" in titles
    assert len(many) - len(few) <= 3 * PER_RECIPIENT, many
