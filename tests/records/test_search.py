"""Full-text search as users meet it: it finds what the caller may see, and a value the caller
may not see can neither be found nor help another word find its record."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from coterie import migrate
from coterie.app import create_app
from coterie.authz import rls
from coterie.authz.guard import UNSAFE
from coterie.models import SearchEntry
from coterie.records import search as search_module
from coterie.records.search import Term, parse_query, search_terms, snippet
from tests.conftest import make_settings
from tests.fixtures import databases
from tests.fixtures.builders import Member, make_colleague, make_company
from tests.fixtures.records import OPPS, fill_space, put_template, share_record
from tests.fixtures.smtp import Inbox, SmtpServer
from tests.fixtures.versions import matching

Found = dict[str, set[tuple[str | None, str]]]


def _notes(visibility: Any = "private") -> list[dict[str, Any]]:
    return [{"key": "notes", "type": "long_text", "visibility": visibility}]


def _create(client: TestClient, who: Member, title: str, path: str = OPPS, **body: Any) -> str:
    response = client.post(path, json={"title": title, **body}, headers=who.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _search(client: TestClient, who: Member, q: str, **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/search", params={"q": q, **params}, headers=who.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _found(client: TestClient, who: Member, q: str, **params: Any) -> Found:
    items = _search(client, who, q, limit=500, **params)["items"]
    return {
        item["record_id"]: {(m["owner_company_id"], m["field"]) for m in item["matches"]}
        for item in items
    }


def _hide_private(client: TestClient, who: Member, hide: bool) -> None:
    response = client.patch(
        "/api/v1/me/preferences", json={"hide_private_fields": hide}, headers=who.headers
    )
    assert response.status_code == 200, response.text


def test_core_words_are_found_by_active_participants_only(client: TestClient) -> None:
    acme, globex, outsider, invitee = (make_company(client, n) for n in "ABCD")
    rid = _create(
        client,
        acme,
        "Zephyrine migration",
        customer_name="Initech",
        customer_domain="initech-global.example",
        description="Move the warehouse to the cloud",
    )
    share_record(client, acme, rid, globex)
    share_record(client, acme, rid, invitee, accepted=False)

    for member in (acme, globex):
        assert _found(client, member, "zephyrine") == {rid: {(None, "title")}}
        assert _found(client, member, "initech") == {
            rid: {(None, "customer_name"), (None, "customer_domain")}
        }
        assert _found(client, member, "warehouse") == {rid: {(None, "description")}}
    for member in (outsider, invitee):  # an invitation shows nothing until it is accepted
        assert _found(client, member, "zephyrine") == {}
        assert _found(client, member, "initech") == {}

    item = _search(client, globex, "zephyrine")["items"][0]
    assert item == {
        "record_id": rid,
        "kind": "opportunity",
        "title": "Zephyrine migration",
        "matches": [
            {
                "owner_company_id": None,
                "field": "title",
                "label": "Title",
                "snippet": "Zephyrine migration",
            }
        ],
    }


def test_a_private_canary_is_found_by_its_owner_only_until_shared(client: TestClient) -> None:
    acme, globex, hooli = (make_company(client, n) for n in ("Acme", "Globex", "Hooli"))
    put_template(client, acme, *_notes("private"), {"key": "stage", "visibility": "private"})
    rid = _create(
        client, acme, "Deal", fields={"notes": "the canaryquux clause", "stage": "Stagecanary"}
    )
    share_record(client, acme, rid, globex, hooli)

    assert _found(client, acme, "canaryquux") == {rid: {(acme.company_id, "notes")}}
    assert _found(client, acme, "stagecanary") == {rid: {(acme.company_id, "stage")}}
    for partner in (globex, hooli):
        assert _found(client, partner, "canaryquux") == {}
        assert _found(client, partner, "stagecanary") == {}
        assert _found(client, partner, "deal canaryquux") == {}  # no help for another word
        assert _found(client, partner, "canary*") == {}

    # hide private fields: the owner's own private values disappear from search too
    _hide_private(client, acme, True)
    assert _found(client, acme, "canaryquux") == {}
    assert _found(client, acme, "deal") == {rid: {(None, "title")}}
    _hide_private(client, acme, False)

    # shared with one named company: that one finds it, the other participant does not
    put_template(client, acme, *_notes({"companies": [globex.company_id]}))
    assert _found(client, globex, "canaryquux") == {rid: {(acme.company_id, "notes")}}
    assert _found(client, hooli, "canaryquux") == {}
    assert _found(client, globex, "stagecanary") == {}  # stage: private by default

    # shared with every participant: everyone on the record finds it
    put_template(client, acme, *_notes("participants"))
    for member in (acme, globex, hooli):
        assert _found(client, member, "canaryquux") == {rid: {(acme.company_id, "notes")}}
    # and when the field leaves the template, nobody finds its value, the owner included
    put_template(client, acme)
    for member in (acme, globex, hooli):
        assert _found(client, member, "canaryquux") == {}
    put_template(client, acme, *_notes("participants"))  # re-added: its values come back
    assert _found(client, hooli, "canaryquux") == {rid: {(acme.company_id, "notes")}}


def test_leaving_or_being_removed_stops_finding_at_once(client: TestClient) -> None:
    acme, globex, hooli = (make_company(client, n) for n in ("Acme", "Globex", "Hooli"))
    for company in (acme, globex, hooli):
        put_template(client, company, *_notes("participants"))
    rid = _create(client, acme, "Orionbelt", fields={"notes": "acmenote"})
    share_record(client, acme, rid, globex, hooli)
    fill_space(client, globex, rid, notes="globexnote")

    assert _found(client, globex, "acmenote") == {rid: {(acme.company_id, "notes")}}
    assert _found(client, acme, "globexnote") == {rid: {(globex.company_id, "notes")}}
    assert _found(client, hooli, "globexnote") == {rid: {(globex.company_id, "notes")}}

    # Globex leaves: it finds nothing, and nobody finds Globex's space any more
    left = client.delete(f"{OPPS}/{rid}/participants/{globex.company_id}", headers=globex.headers)
    assert left.status_code == 204
    for q in ("orionbelt", "acmenote", "globexnote"):
        assert _found(client, globex, q) == {}
    assert _found(client, acme, "globexnote") == {}
    assert _found(client, hooli, "globexnote") == {}

    # Hooli is removed by the owner: the same, immediately
    removed = client.delete(f"{OPPS}/{rid}/participants/{hooli.company_id}", headers=acme.headers)
    assert removed.status_code == 204
    assert _found(client, hooli, "orionbelt") == {}
    assert _found(client, hooli, "acmenote") == {}

    # invited again and accepted: Globex's old space is back, for those who may see it
    share_record(client, acme, rid, globex)
    assert _found(client, acme, "globexnote") == {rid: {(globex.company_id, "notes")}}


def test_prefix_case_accents_and_every_word_in_some_visible_field(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    rid = _create(
        client, acme, "Société Générale renewal", fields={"stage": "Negotiation", "product": "Q-9"}
    )
    other = _create(client, acme, "Negotiation training")

    assert _found(client, acme, "SOCIETE") == {rid: {(None, "title")}}
    assert _found(client, acme, "génér") == {rid: {(None, "title")}}  # the last word: a prefix
    assert _found(client, acme, "soc renewal") == {}  # not the last word: a whole word...
    assert _found(client, acme, "soc* renewal") == {rid: {(None, "title")}}  # ...unless soc*
    # every word must match, each in some visible field; matches list every matching field
    assert _found(client, acme, "renewal negotiation") == {
        rid: {(None, "title"), (acme.company_id, "stage")}
    }
    assert _found(client, acme, "negotiation") == {
        rid: {(acme.company_id, "stage")},
        other: {(None, "title")},
    }
    assert _found(client, acme, "renewal nothingofthat") == {}
    assert _found(client, acme, "q-9") == {rid: {(acme.company_id, "product")}}


@pytest.mark.parametrize(
    "q",
    [
        '"',
        "'",
        "*",
        "***",
        "-",
        "\\",
        "%",
        "_",
        "()",
        ":*",
        "&|!",
        "^",
        "NEAR(a b)",
        "title:foo",
        "foo AND bar OR NOT baz",
        '"unbalanced',
        "' OR '1'='1",
        "'; DROP TABLE records; --",
        "🦄",
        "x" * 200,
    ],
)
def test_punctuation_quotes_and_sql_are_just_text(client: TestClient, q: str) -> None:
    acme = make_company(client, "Acme")
    _create(client, acme, 'O\'Reilly "quoted" (deal) 100% a-b_c')

    body = _search(client, acme, q)

    assert isinstance(body["items"], list)
    assert body["next_cursor"] is None


def test_quotes_in_values_are_searchable(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    rid = _create(client, acme, 'O\'Reilly "quoted" (deal) 100% a-b_c')

    assert _found(client, acme, "o'reilly") == {rid: {(None, "title")}}
    assert _found(client, acme, '"quoted"') == {rid: {(None, "title")}}
    assert _found(client, acme, "100%") == {rid: {(None, "title")}}
    assert _found(client, acme, "'; DROP TABLE records; --") == {}


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": ""},
        {"q": "   "},
        {"q": "x" * 201},
        {"q": " ".join(f"w{i}" for i in range(17))},
        {"q": "deal", "kind": "webinar"},
        {"q": "deal", "limit": 0},
        {"q": "deal", "limit": 501},
        {"q": "deal", "cursor": "not-a-cursor"},
    ],
)
def test_bad_queries_are_422(client: TestClient, params: dict[str, Any]) -> None:
    acme = make_company(client, "Acme")

    response = client.get("/api/v1/search", params=params, headers=acme.headers)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_search_needs_a_token(client: TestClient) -> None:
    assert client.get("/api/v1/search", params={"q": "x"}).status_code == 401


def test_kind_filter(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    opportunity = _create(client, acme, "Kestrel expansion")
    lead = _create(client, acme, "Kestrel inbound", path="/api/v1/leads")
    account = _create(client, acme, "Kestrel Corp", path="/api/v1/accounts")

    assert set(_found(client, acme, "kestrel")) == {opportunity, lead, account}
    assert set(_found(client, acme, "kestrel", kind="lead")) == {lead}
    assert set(_found(client, acme, "kestrel", kind="account")) == {account}
    items = _search(client, acme, "kestrel", kind="opportunity")["items"]
    assert [(i["record_id"], i["kind"]) for i in items] == [(opportunity, "opportunity")]


def test_pages_are_newest_first_without_gaps_or_repeats(client: TestClient) -> None:
    acme, globex = make_company(client, "Acme"), make_company(client, "Globex")
    mine = [_create(client, acme, f"Pagination deal {i}") for i in range(5)]
    _create(client, globex, "Pagination deal of someone else")

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        body = _search(client, acme, "pagination", **params)
        assert len(body["items"]) <= 2
        seen += [item["record_id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break

    assert seen == list(reversed(mine))


def test_the_index_follows_every_write(client: TestClient) -> None:
    acme, globex = make_company(client, "Acme"), make_company(client, "Globex")
    put_template(client, acme, *_notes("participants"))
    rid = _create(client, acme, "Firstname", fields={"notes": "alpha"})
    share_record(client, acme, rid, globex)

    renamed = client.patch(
        f"{OPPS}/{rid}",
        json={"title": "Secondname"},
        headers=matching(client, acme, f"{OPPS}/{rid}"),
    )
    assert renamed.status_code == 200, renamed.text
    assert _found(client, globex, "firstname") == {}
    assert _found(client, globex, "secondname") == {rid: {(None, "title")}}

    fill_space(client, acme, rid, notes="beta")
    assert _found(client, globex, "alpha") == {}
    assert _found(client, globex, "beta") == {rid: {(acme.company_id, "notes")}}
    fill_space(client, acme, rid, notes=None)
    assert _found(client, globex, "beta") == {}


def test_only_text_fields_are_indexed(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    put_template(
        client,
        acme,
        {"key": "code", "type": "text", "visibility": "private"},
        {
            "key": "tier",
            "type": "enum",
            "visibility": "private",
            "options": [{"key": "goldtier", "label": "Gold"}],
        },
        {"key": "score", "type": "number", "visibility": "private"},
    )
    rid = _create(
        client, acme, "Fields", fields={"code": "xk42", "tier": "goldtier", "score": 4242}
    )

    assert _found(client, acme, "xk42") == {rid: {(acme.company_id, "code")}}
    assert _found(client, acme, "goldtier") == {}
    assert _found(client, acme, "4242") == {}


def test_long_values_give_a_short_snippet_around_the_match(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    description = " ".join(["filler"] * 200 + ["needleword", "here"] + ["padding"] * 200)
    _create(client, acme, "Long", description=description)

    match = _search(client, acme, "needleword")["items"][0]["matches"][0]

    assert match["field"] == "description"
    assert "needleword here" in match["snippet"]
    assert match["snippet"].startswith("…")
    assert match["snippet"].endswith("…")
    assert len(match["snippet"]) <= search_module.SNIPPET_CHARS + 2


def test_per_user_visibility_rules_apply_to_search(client: TestClient, inbox: Inbox) -> None:
    acme = make_company(client, "Acme")
    rep = make_colleague(client, acme, "member", inbox=inbox)
    put_template(client, acme, {"key": "region", "visibility": "private"})
    _create(client, acme, "Lynxberlin", fields={"region": "emea"})
    team = client.post(
        "/api/v1/teams", json={"name": "Nobody", "members": []}, headers=acme.headers
    )
    assert team.status_code == 201, team.text
    rule = client.post(
        "/api/v1/rules",
        json={
            "kind": "opportunity",
            "name": "nobody sees EMEA",
            "type": "visibility",
            "condition": {"field": "region", "op": "eq", "value": "emea"},
            "grantees": {"teams": [team.json()["id"]]},
        },
        headers=acme.headers,
    )
    assert rule.status_code == 201, rule.text

    assert len(_found(client, acme, "lynxberlin")) == 1  # admins see everything
    assert _found(client, rep, "lynxberlin") == {}


def test_reindex_all_rebuilds_the_same_index(client: TestClient, app: FastAPI) -> None:
    acme, globex = make_company(client, "Acme"), make_company(client, "Globex")
    put_template(client, acme, *_notes("participants"))
    rid = _create(client, acme, "Reindexed", fields={"notes": "rebuilt", "stage": "Won"})
    share_record(client, acme, rid, globex)
    before = _found(client, globex, "rebuilt")

    with app.state.session_factory() as session:
        with rls.unsafe_system_scope(session):  # count every row, as reindex_all reads them
            count = session.scalar(
                select(func.count()).select_from(SearchEntry).execution_options(**UNSAFE)
            )
            assert count
            assert search_module.reindex_all(session) == count
        session.commit()

    assert _found(client, globex, "rebuilt") == before == {rid: {(acme.company_id, "notes")}}
    assert _found(client, acme, "won") == {rid: {(acme.company_id, "stage")}}


def test_words_are_normalized_the_same_for_values_and_queries() -> None:
    assert search_terms("Société GÉNÉRALE, a-b_c 3.14 Straße ﬁne") == [
        "societe",
        "generale",
        "a",
        "b",
        "c",
        "3",
        "14",
        "strasse",
        "fine",
    ]
    assert parse_query("acme* corp") == [Term("acme", True), Term("corp", True)]
    assert parse_query("acme corp") == [Term("acme", False), Term("corp", True)]
    assert parse_query("!!! ???") == []
    assert snippet("short value", [Term("value", False)]) == "short value"


@pytest.fixture(params=databases.KINDS)
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of a new, never migrated database of its own (this test migrates up and down)."""
    with databases.fresh_database(request.param, tmp_path, "fresh.sqlite3") as url:
        yield url


def test_migration_0004_indexes_the_records_that_exist(
    fresh_database: str, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    migrate.upgrade(fresh_database)
    app = create_app(make_settings(fresh_database, tmp_path, smtp_server.port))
    try:
        with TestClient(app) as client:
            acme = make_company(client, "Acme")
            rid = _create(client, acme, "Backfilled deal", fields={"stage": "Legacystage"})
        app.state.engine.dispose()
        command.downgrade(migrate.alembic_config(fresh_database), "0003")
        migrate.upgrade(fresh_database)
        with TestClient(app) as client:
            assert _found(client, acme, "backfilled") == {rid: {(None, "title")}}
            assert _found(client, acme, "legacystage") == {rid: {(acme.company_id, "stage")}}
    finally:
        app.state.engine.dispose()
