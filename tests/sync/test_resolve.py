"""The conflicts inbox (`coterie.sync.resolve`, /api/v1/sync/conflicts): what an admin sees and
what deciding a conflict does to the record, the shadow and the CRM's outbox."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.fixtures.builders import Member, make_colleague, make_company, make_partnership
from tests.fixtures.records import create_record, fill_space, put_template, share_record
from tests.fixtures.smtp import Inbox
from tests.fixtures.versions import at_version
from tests.sync.inbox_builders import (
    NEXT_STEP,
    count_open,
    crm_pushes,
    make_conflict,
    make_connection,
    make_link,
    shadow_of,
)

OPPS = "/api/v1/opportunities"
CONFLICTS = "/api/v1/sync/conflicts"


def _next_step(client: TestClient, who: Member, record_id: str) -> Any:
    response = client.get(f"{OPPS}/{record_id}", headers=who.headers)
    assert response.status_code == 200, response.text
    mine = next(s for s in response.json()["spaces"] if s["is_mine"])
    return mine["fields"].get("next_step")


def _setup(
    app: FastAPI,
    client: TestClient,
    *,
    holding: str = "Send the quote",
    shadow: tuple[Any, Any] = ("Call the CFO", "Demo on site"),
    winner: str = "coterie",
) -> tuple[Member, str, uuid.UUID, uuid.UUID, uuid.UUID]:
    """Acme's opportunity whose next step both sides changed from "Call the CFO" ("Send the
    quote" in Coterie, "Demo on site" in the CRM). By default Coterie won, and the push has not
    sent its value yet: my space holds it, the CRM still holds its own."""
    acme = make_company(client, "Acme")
    put_template(client, acme, NEXT_STEP)
    record = create_record(client, acme, "Initech renewal", next_step=holding)
    connection = make_connection(app, acme)
    link = make_link(app, connection, record, shadows={"space.next_step": shadow})
    conflict = make_conflict(
        app,
        connection,
        link,
        record,
        base="Call the CFO",
        coterie="Send the quote",
        crm="Demo on site",
        winner=winner,
    )
    return acme, record, connection, link, conflict


def _crm_won(
    app: FastAPI, client: TestClient
) -> tuple[Member, str, uuid.UUID, uuid.UUID, uuid.UUID]:
    """The same conflict, but the CRM won: its value overwrote Coterie's in my space."""
    return _setup(
        app, client, holding="Demo on site", shadow=("Demo on site", "Demo on site"), winner="crm"
    )


def _resolve(
    client: TestClient, who: Member, conflict: uuid.UUID, choice: str, version: int = 1
) -> Any:
    return client.post(
        f"{CONFLICTS}/{conflict}/resolve", json={"choice": choice}, headers=at_version(who, version)
    )


def test_the_inbox_lists_a_conflict_with_the_field_label_and_the_three_values(
    app: FastAPI, client: TestClient
) -> None:
    acme, record, connection, _, conflict = _setup(app, client)
    response = client.get(
        CONFLICTS, params={"connection_id": str(connection)}, headers=acme.headers
    )
    assert response.status_code == 200, response.text
    [item] = response.json()["items"]
    assert item["id"] == str(conflict)
    assert item["record_title"] == "Initech renewal"
    assert item["field_label"] == "Next step"  # the template's label, not `space.next_step`
    assert item["shown"] == {
        "base": "Call the CFO",
        "coterie": "Send the quote",
        "crm": "Demo on site",
    }
    assert item["winner"] == "coterie"
    # the filters narrow it down
    assert (
        client.get(CONFLICTS, params={"field": "space.amount"}, headers=acme.headers).json()[
            "items"
        ]
        == []
    )
    by_record = client.get(CONFLICTS, params={"record_id": record}, headers=acme.headers)
    assert [i["id"] for i in by_record.json()["items"]] == [str(conflict)]
    one = client.get(f"{CONFLICTS}/{conflict}", headers=acme.headers)
    assert one.headers["ETag"] == '"1"'


def test_keep_confirms_the_winner_and_changes_nothing_on_the_record(
    app: FastAPI, client: TestClient
) -> None:
    acme, record, _, _, conflict = _setup(app, client)
    response = _resolve(client, acme, conflict, "keep")
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["resolution"]) == ("resolved", "kept")
    assert _next_step(client, acme, record) == "Send the quote"
    assert crm_pushes(app, record) == 0
    assert client.get(CONFLICTS, headers=acme.headers).json()["items"] == []


def test_switching_to_the_crm_value_shows_it_in_my_space_and_the_shadow_agrees(
    app: FastAPI, client: TestClient
) -> None:
    # Coterie won, and the push has not sent Coterie's value yet: the CRM still holds its own
    acme, record, _, link, conflict = _setup(app, client)
    response = _resolve(client, acme, conflict, "switch")
    assert response.status_code == 200, response.text
    assert response.json()["resolution"] == "switched"
    assert _next_step(client, acme, record) == "Demo on site"
    # both sides hold "Demo on site" now: nothing to push, and the next merge sees no change
    assert shadow_of(app, link, "space.next_step") == ("Demo on site", "Demo on site")
    assert crm_pushes(app, record) == 0


def test_switching_to_the_crm_value_after_the_push_overwrote_it_sends_it_back(
    app: FastAPI, client: TestClient
) -> None:
    # the push already sent "Send the quote" to the CRM: the CRM needs its value back
    acme, record, _, _, conflict = _setup(app, client, shadow=("Send the quote", "Send the quote"))
    assert _resolve(client, acme, conflict, "switch").status_code == 200
    assert _next_step(client, acme, record) == "Demo on site"
    assert crm_pushes(app, record) == 1


def test_switching_to_coteries_value_writes_it_back_and_queues_exactly_one_push(
    app: FastAPI, client: TestClient
) -> None:
    # the CRM won: its value overwrote Coterie's in my space
    acme, record, _, _, conflict = _crm_won(app, client)
    assert crm_pushes(app, record) == 0
    response = _resolve(client, acme, conflict, "switch")
    assert response.status_code == 200, response.text
    assert _next_step(client, acme, record) == "Send the quote"
    assert crm_pushes(app, record) == 1


def test_two_admins_deciding_at_once_one_wins_the_other_gets_412(
    app: FastAPI, client: TestClient, inbox: Inbox
) -> None:
    acme, record, _, _, conflict = _crm_won(app, client)
    other_admin = make_colleague(client, acme, "admin", inbox=inbox)
    first = _resolve(client, acme, conflict, "switch", version=1)
    second = _resolve(client, other_admin, conflict, "keep", version=1)
    assert first.status_code == 200, first.text
    assert second.status_code == 412, second.text
    assert second.headers["content-type"].startswith("application/problem+json")
    # the loser changed nothing: the record keeps the winner's decision, one push only
    assert _next_step(client, acme, record) == "Send the quote"
    assert crm_pushes(app, record) == 1
    # with the current version, a decided conflict is refused as decided
    again = _resolve(client, other_admin, conflict, "keep", version=2)
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/sync-conflict-resolved"


def test_a_switch_never_overwrites_an_edit_made_since_the_conflict(
    app: FastAPI, client: TestClient
) -> None:
    acme, record, _, _, conflict = _setup(app, client)
    fill_space(client, acme, record, next_step="Sign on Friday")
    response = _resolve(client, acme, conflict, "switch")
    assert response.status_code == 409
    assert response.json()["type"] == "/problems/sync-conflict-outdated"
    assert _next_step(client, acme, record) == "Sign on Friday"
    assert count_open(app) == 1  # still waiting: nothing was half-done


def test_another_companys_conflict_is_404_and_a_member_gets_403(
    app: FastAPI, client: TestClient, inbox: Inbox
) -> None:
    acme, _, connection, _, conflict = _crm_won(app, client)
    globex = make_company(client, "Globex")
    for response in (
        client.get(f"{CONFLICTS}/{conflict}", headers=globex.headers),
        _resolve(client, globex, conflict, "keep"),
        client.get(CONFLICTS, params={"connection_id": str(connection)}, headers=globex.headers),
    ):
        assert response.status_code == 404, response.text
    assert client.get(CONFLICTS, headers=globex.headers).json()["items"] == []
    kept = client.post(
        f"{CONFLICTS}/keep-all", json={"ids": [str(conflict)]}, headers=globex.headers
    )
    assert kept.json() == {"kept": 0}

    member = make_colleague(client, acme, "member", inbox=inbox)
    assert client.get(CONFLICTS, headers=member.headers).status_code == 403
    assert _resolve(client, member, conflict, "keep").status_code == 403
    assert count_open(app) == 1


def test_a_conflict_on_a_record_the_viewer_may_no_longer_see_is_not_shown(
    app: FastAPI, client: TestClient
) -> None:
    # Globex takes part in Acme's opportunity and syncs it; then Acme removes Globex
    acme = make_company(client, "Acme")
    globex = make_company(client, "Globex")
    make_partnership(client, acme, globex)
    record = create_record(client, acme, "Initech renewal")
    share_record(client, acme, record, globex)
    connection = make_connection(app, globex, name="Globex CRM")
    link = make_link(app, connection, record)
    conflict = make_conflict(
        app, connection, link, record, base=None, coterie="a", crm="b", winner="crm"
    )
    assert len(client.get(CONFLICTS, headers=globex.headers).json()["items"]) == 1
    removed = client.delete(
        f"{OPPS}/{record}/participants/{globex.company_id}", headers=acme.headers
    )
    assert removed.status_code in (200, 204), removed.text
    assert client.get(CONFLICTS, headers=globex.headers).json()["items"] == []
    assert client.get(f"{CONFLICTS}/{conflict}", headers=globex.headers).status_code == 404
    assert _resolve(client, globex, conflict, "keep").status_code == 404


def test_keep_all_resolves_the_listed_open_conflicts_once(app: FastAPI, client: TestClient) -> None:
    acme, record, connection, link, first = _setup(app, client)
    second = make_conflict(
        app,
        connection,
        link,
        record,
        field="record.title",
        base="Initech",
        coterie="Initech renewal",
        crm="Initech 2027",
        winner="crm",
    )
    url = f"{CONFLICTS}/keep-all"
    ids = [str(first), str(second)]
    assert client.post(url, json={"ids": ids}, headers=acme.headers).json() == {"kept": 2}
    assert client.post(url, json={"ids": ids}, headers=acme.headers).json() == {"kept": 0}
    assert count_open(app) == 0
    assert _next_step(client, acme, record) == "Send the quote"
    bad = client.post(url, json={"ids": ["nope"]}, headers=acme.headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["path"].startswith("body.ids")
