"""Duplicate detection: the same customer by domain or by a similar name, among the records the
caller may see, and never anything else."""

from __future__ import annotations

from fastapi.testclient import TestClient

from coterie.cosell.pipeline.duplicates import normalize_domain, normalize_name, similarity
from tests.fixtures.builders import make_company, make_partnership
from tests.fixtures.pipeline import LEADS, join, make_lead, make_record, nominate


def test_domains_and_names_are_normalized() -> None:
    assert normalize_domain("https://www.Acme.com/about?x=1") == "acme.com"
    assert normalize_domain("HTTP://acme.com:8080") == "acme.com"
    assert normalize_domain("  ") is None
    assert normalize_name("Acme, Inc.") == "acme"
    assert normalize_name("ACME Incorporated") == "acme"
    assert normalize_name("Müller GmbH & Co. KG") == "muller"
    assert normalize_name("The Initech Group plc") == "initech"
    assert normalize_name("Ltd") == "ltd", "a name made only of a suffix stays"
    assert similarity("globex international", "globex internationl") >= 0.88
    assert similarity("acme", "apex") < 0.88


def _matches(client: TestClient, who: object, **body: object) -> dict[str, str]:
    response = client.post(f"{LEADS}/duplicates", json=body, headers=who.headers)  # type: ignore[attr-defined]
    assert response.status_code == 200, response.text
    return {item["title"]: item["match"] for item in response.json()}


def test_duplicates_by_domain_and_similar_name_across_kinds(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    make_lead(client, acme, "Globex lead", "Globex Corporation", "globex.example")
    make_record(
        client, acme, "opportunities", "Globex deal", customer_name="Globex International Ltd"
    )
    make_record(client, acme, "accounts", "Globex account", customer_name="GLOBEX, Inc.")
    make_record(client, acme, "accounts", "Initech", customer_name="Initech")

    by_domain = _matches(
        client, acme, customer_name="", customer_domain="https://www.globex.example/contact"
    )
    assert by_domain == {"Globex lead": "domain"}
    by_name = _matches(client, acme, customer_name="Globex Internationl GmbH")
    assert by_name == {"Globex deal": "similar_name"}
    exact = _matches(client, acme, customer_name="globex")
    assert exact == {"Globex lead": "name", "Globex account": "name"}
    only_accounts = _matches(client, acme, customer_name="Globex", kind="account")
    assert only_accounts == {"Globex account": "name"}
    assert _matches(client, acme, customer_name="Umbrella") == {}


def test_duplicates_never_reveal_records_the_caller_cannot_see(client: TestClient) -> None:
    acme, beta, gamma = (make_company(client, n) for n in ("Acme", "Beta", "Gamma"))
    make_partnership(client, acme, beta)
    secret = make_lead(client, acme, "SECRET Globex lead", "Globex", "globex.example")
    shared = make_record(
        client, acme, "opportunities", "Shared Globex deal", customer_name="Globex"
    )
    invited_only = make_record(
        client, acme, "accounts", "Invited Globex account", customer_name="Globex"
    )
    join(client, acme, "opportunities", shared, beta)
    client.post(
        f"/api/v1/accounts/{invited_only}/participants",
        json={"company_id": beta.company_id},
        headers=acme.headers,
    )
    found = _matches(client, beta, customer_name="Globex", customer_domain="globex.example")
    assert found == {"Shared Globex deal": "name"}
    assert _matches(client, gamma, customer_name="Globex", customer_domain="globex.example") == {}
    # a lead the caller cannot see answers 404, exactly like one that does not exist
    assert client.get(f"{LEADS}/{secret}/duplicates", headers=gamma.headers).status_code == 404


def test_a_receiver_checks_a_nomination_against_its_own_records_only(
    client: TestClient,
) -> None:
    acme, beta, gamma = (make_company(client, n) for n in ("Acme", "Beta", "Gamma"))
    make_partnership(client, acme, beta)
    make_lead(client, acme, "Acme's own Globex lead", "Globex", "globex.example")
    make_lead(client, beta, "Beta's Globex lead", "Globex AG", "globex.example")
    make_lead(client, gamma, "Gamma's Globex lead", "Globex", "globex.example")
    nominated = make_lead(client, acme, "Globex nominated", "Globex", "globex.example")
    nominate(client, acme, nominated, beta)

    response = client.get(f"{LEADS}/{nominated}/duplicates", headers=beta.headers)
    assert response.status_code == 200, response.text
    assert [item["title"] for item in response.json()] == ["Beta's Globex lead"]
    by_acme = client.get(f"{LEADS}/{nominated}/duplicates", headers=acme.headers).json()
    assert [item["title"] for item in by_acme] == ["Acme's own Globex lead"]
    assert client.get(f"{LEADS}/{nominated}/duplicates", headers=gamma.headers).status_code == 404
    # after rejecting, Beta has no business with the lead any more
    client.post(
        f"{LEADS}/{nominated}/reject", json={"reason_code": "duplicate"}, headers=beta.headers
    )
    assert client.get(f"{LEADS}/{nominated}/duplicates", headers=beta.headers).status_code == 404
