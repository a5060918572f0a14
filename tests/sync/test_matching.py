"""Match-or-create (`coterie.sync.matching`): id, then domain, then name; ambiguous is never
guessed; a record the principal may not see is never a candidate."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from coterie.authz.principal import Principal
from coterie.sync import matching
from tests.fixtures.builders import Member, make_company
from tests.fixtures.records import share_record

PLURAL = {"account": "accounts", "lead": "leads", "opportunity": "opportunities"}


def _create(client: TestClient, who: Member, kind: str, title: str, **core: Any) -> uuid.UUID:
    response = client.post(
        f"/api/v1/{PLURAL[kind]}", json={"title": title, **core}, headers=who.headers
    )
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


@contextmanager
def _matcher(app: FastAPI, who: Member) -> Iterator[Any]:
    principal = Principal(uuid.UUID(who.company_id), uuid.UUID(who.user_id), hide_private=False)
    session: Session = app.state.session_factory()
    try:

        def run(kind: str, **kwargs: Any) -> matching.Match:
            return matching.match(session, principal, kind, **kwargs)

        yield run
    finally:
        session.rollback()
        session.close()


def test_a_known_id_wins_and_an_id_the_principal_cannot_see_counts_as_absent(
    app: FastAPI, client: TestClient
) -> None:
    acme = make_company(client, "Acme")
    globex = make_company(client, "Globex")
    mine = _create(client, acme, "account", "Initech", customer_domain="initech.example")
    theirs = _create(client, globex, "account", "Hooli", customer_domain="hooli.example")
    with _matcher(app, acme) as match:
        found = match("account", name="Something else entirely", known_id=mine)
        assert (found.outcome, found.record_id) == ("id", mine)
        # Globex's account does not exist for Acme: no error, no hint, just no match
        hidden = match("account", name="Nothing alike", known_id=theirs)
        assert hidden == matching.Match("none", None, ())
        # an id of another kind is no match either
        assert match("lead", name="Initech", known_id=mine).outcome == "none"


def test_an_account_matches_on_its_normalized_domain(app: FastAPI, client: TestClient) -> None:
    acme = make_company(client, "Acme")
    initech = _create(client, acme, "account", "Initech", customer_domain="initech.example")
    with _matcher(app, acme) as match:
        for written in ("https://www.Initech.example/about", "INITECH.example", "initech.example"):
            found = match("account", name="A name that differs", domain=written)
            assert (found.outcome, found.record_id) == ("domain", initech), written
        assert match("account", name="Umbrella", domain="umbrella.example").outcome == "none"


def test_names_match_across_case_accents_punctuation_and_legal_suffixes(
    app: FastAPI, client: TestClient
) -> None:
    acme = make_company(client, "Acme")
    muller = _create(client, acme, "account", "Müller Maschinenbau GmbH")
    with _matcher(app, acme) as match:
        for written in ("MULLER MASCHINENBAU", "Müller Maschinenbau", "müller maschinenbau, gmbh."):
            found = match("account", name=written)
            assert (found.outcome, found.record_id) == ("name", muller), written
            assert found.candidates[0].score == 1.0
        # a typo is still the one clear best
        typo = match("account", name="Muller Maschinenbaau")
        assert (typo.outcome, typo.record_id) == ("name", muller)
        assert matching.MATCH_AT <= typo.candidates[0].score < 1.0
        assert match("account", name="Schmidt Logistik").outcome == "none"


def test_two_close_names_are_ambiguous_with_their_candidates_best_first(
    app: FastAPI, client: TestClient
) -> None:
    acme = make_company(client, "Acme")
    north = _create(client, acme, "account", "Northwind Traders")
    south = _create(client, acme, "account", "Northwind Trading")
    with _matcher(app, acme) as match:
        found = match("account", name="Northwind Trade")
        assert found.outcome == "ambiguous"
        assert found.record_id is None
        assert {c.record_id for c in found.candidates} == {north, south}
        assert [c.score for c in found.candidates] == sorted(
            (c.score for c in found.candidates), reverse=True
        )
        # the exact name is the one clear best even with a close neighbour
        exact = match("account", name="northwind traders")
        assert (exact.outcome, exact.record_id) == ("name", north)


def test_the_same_name_twice_is_ambiguous(app: FastAPI, client: TestClient) -> None:
    acme = make_company(client, "Acme")
    first = _create(client, acme, "account", "Contoso")
    second = _create(client, acme, "account", "Contoso Ltd")
    with _matcher(app, acme) as match:
        found = match("account", name="Contoso")
        assert found.outcome == "ambiguous"
        assert {c.record_id for c in found.candidates} == {first, second}
        # unless one of them is excluded (an import's own creations)
        only = match("account", name="Contoso", exclude={first})
        assert (only.outcome, only.record_id) == ("name", second)


def test_a_deal_is_matched_on_its_title_within_its_customer(
    app: FastAPI, client: TestClient
) -> None:
    acme = make_company(client, "Acme")
    renewal = _create(
        client,
        acme,
        "opportunity",
        "Initech renewal 2027",
        customer_name="Initech",
        customer_domain="initech.example",
    )
    _create(
        client,
        acme,
        "opportunity",
        "Data platform",
        customer_name="Initech",
        customer_domain="initech.example",
    )
    _create(client, acme, "opportunity", "Initech renewal 2027", customer_name="Globex")
    with _matcher(app, acme) as match:
        found = match(
            "opportunity",
            name="Initech Renewal 2027",
            domain="www.initech.example",
            customer_name="Initech Inc.",
        )
        assert (found.outcome, found.record_id) == ("domain", renewal)
        # a new deal at a known customer is created, not folded into another deal
        new = match(
            "opportunity", name="Security audit", domain="initech.example", customer_name="Initech"
        )
        assert new.outcome == "none"
        # without a domain the customer name tells the two renewals apart
        by_name = match("opportunity", name="initech renewal 2027", customer_name="Initech")
        assert (by_name.outcome, by_name.record_id) == ("name", renewal)


def test_a_record_the_principal_cannot_see_is_never_a_candidate(
    app: FastAPI, client: TestClient
) -> None:
    acme = make_company(client, "Acme")
    globex = make_company(client, "Globex")
    from tests.fixtures.builders import make_partnership

    make_partnership(client, acme, globex)
    hidden = _create(
        client, globex, "opportunity", "Umbrella expansion", customer_domain="umbrella.example"
    )
    hidden_account = _create(
        client, globex, "account", "Umbrella Corp", customer_domain="umbrella.example"
    )
    with _matcher(app, acme) as match:
        for found in (
            match("opportunity", name="Umbrella expansion", domain="umbrella.example"),
            match("opportunity", name="Umbrella expansion"),
            match("opportunity", name="Umbrella expansion", known_id=hidden),
            match("account", name="Umbrella Corp", domain="umbrella.example"),
            match("account", name="Umbrella", known_id=hidden_account),
        ):
            assert found == matching.Match("none", None, ())
    # once Globex shares the opportunity with Acme, it is Acme's to match
    share_record(client, globex, str(hidden), acme)
    with _matcher(app, acme) as match:
        found = match("opportunity", name="Umbrella expansion", domain="umbrella.example")
        assert (found.outcome, found.record_id) == ("domain", hidden)
        assert match("account", name="Umbrella Corp").outcome == "none"


def test_name_candidates_are_narrowed_in_sql_to_records_sharing_a_word(
    app: FastAPI, client: TestClient
) -> None:
    acme = make_company(client, "Acme")
    for n in range(30):
        _create(client, acme, "account", f"Unrelated company {n}")
    wanted = _create(client, acme, "account", "Vandelay Industries")
    with _matcher(app, acme) as match:
        found = match("account", name="Vandelay Industries Inc")
        assert (found.outcome, found.record_id) == ("name", wanted)
    assert matching._significant_words(["The Vandelay Industries, Inc.", "ab"]) == [
        "industries",
        "vandelay",
    ]
