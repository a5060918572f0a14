"""Who sees an idea, as the program's host chose: every company in the program (the default),
the proposer's company and the host, or the host alone (and the proposer). Never a company
outside the program, and no longer a company that left it. A canary in the problem text proves
it: it is in no API answer, program page or notification of a company that may not see it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.fixtures.builders import Member
from tests.fixtures.cosell import API
from tests.fixtures.ideas import World, idea_as, propose, set_visibility, world
from tests.fixtures.smtp import Inbox
from tests.web.conftest import Browser
from tests.web.conftest import new_browser as new_browser  # the shared fixture
from tests.web.test_network_pages import signed_in


def canary() -> str:
    return f"CANARY-{uuid.uuid4().hex[:12]}"


def everything_seen(
    client: TestClient, new_browser: Callable[[], Browser], who: Member, w: World, idea_id: str
) -> str:
    """All that `who` may be shown about ideas: the API reads, the program page, notifications."""
    answers = [
        client.get(f"{API}/ideas/{idea_id}", headers=who.headers).text,
        client.get(f"{API}/ideas", headers=who.headers).text,
        client.get(f"{API}/programs/{w.program_id}/ideas", headers=who.headers).text,
        client.get(f"{API}/notifications", headers=who.headers).text,
    ]
    browser = signed_in(new_browser, who)
    answers.append(browser.get(f"/programs/{w.program_id}").text)
    answers.append(browser.get("/notifications").text)
    return "\n".join(answers)


def sees(client: TestClient, who: Member, idea_id: str) -> bool:
    status = idea_as(client, who, idea_id).status_code
    assert status in (200, 404)
    listed = client.get(f"{API}/ideas", headers=who.headers).json()["items"]
    assert (status == 200) == any(i["id"] == idea_id for i in listed)
    return status == 200


@pytest.mark.parametrize(
    ("rule", "seeing"),
    [
        ("program", {"host", "host_member", "a", "a_seller", "b"}),
        ("proposer_company", {"host", "host_member", "a", "a_seller"}),
        ("host", {"host", "host_member", "a_seller"}),
    ],
)
def test_the_hosts_rule_decides_who_sees(
    client: TestClient,
    inbox: Inbox,
    new_browser: Callable[[], Browser],
    rule: str,
    seeing: set[str],
) -> None:
    w = world(client, inbox)
    if rule != "program":
        set_visibility(client, w.host, w.program_id, rule)
    secret = canary()
    idea = propose(client, w.a_seller, w.program_id, problem=f"Churn in {secret} accounts")
    declined = client.post(f"{API}/ideas/{idea['id']}/decline",
                           json={"reason": f"Reason {secret}"}, headers=w.host.headers)  # fmt: skip
    assert declined.status_code == 200
    people = {
        name: getattr(w, name) for name in ("host", "host_member", "a", "a_seller", "b", "outsider")
    }
    for name, who in people.items():
        assert sees(client, who, idea["id"]) == (name in seeing), name
        shown = everything_seen(client, new_browser, who, w, idea["id"])
        if name in seeing:
            assert secret in shown, name
        else:
            assert not re.search(secret, shown, re.IGNORECASE), name


def test_only_the_host_chooses_the_rule(client: TestClient, inbox: Inbox) -> None:
    w = world(client, inbox)
    url = f"{API}/programs/{w.program_id}/ideas/settings"
    read = client.get(url, headers=w.a.headers)
    assert read.json()["visibility"] == "program"
    assert read.json()["can_edit"] is False
    body = {"visibility": "host"}
    assert client.put(url, json=body, headers={**w.a.headers, "If-Match": "0"}).status_code == 403
    assert client.put(url, json=body, headers=w.host.headers).status_code == 428
    bad = client.put(url, json={"visibility": "all"}, headers={**w.host.headers, "If-Match": "0"})
    assert bad.status_code == 422
    assert "body.visibility" in bad.text
    assert client.get(url, headers=w.outsider.headers).status_code == 404


def test_a_company_that_leaves_stops_seeing(
    client: TestClient, inbox: Inbox, new_browser: Callable[[], Browser]
) -> None:
    w = world(client, inbox)
    secret = canary()
    idea = propose(client, w.host_member, w.program_id, problem=f"Gap {secret}")
    assert sees(client, w.b, idea["id"])
    left = client.delete(
        f"{API}/programs/{w.program_id}/participants/{w.b.company_id}", headers=w.b.headers
    )
    assert left.status_code in (200, 204), left.text
    assert not sees(client, w.b, idea["id"])
    assert (
        client.get(f"{API}/programs/{w.program_id}/ideas", headers=w.b.headers).status_code == 404
    )
    assert client.post(f"{API}/ideas/{idea['id']}/endorse", headers=w.b.headers).status_code == 404
    assert secret not in everything_seen(client, new_browser, w.b, w, idea["id"])
    # its endorsement no longer shows to those still in the program
    assert sees(client, w.a, idea["id"])
