"""Partner programs: the host edits the profile, participants read it, the overview lists only
the program's plans the viewer may see, and outsiders get 404."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.fixtures.builders import make_colleague, make_company
from tests.fixtures.cosell import API, join, record
from tests.fixtures.smtp import Inbox
from tests.fixtures.versions import at_version

PROFILE = {
    "program_type": "resell",
    "region": "emea",
    "starts_on": "2026-01-01",
    "ends_on": "2026-12-31",
    "status": "active",
}


def test_the_host_edits_the_profile_partners_read_it(client: TestClient, inbox: Inbox) -> None:
    host = make_company(client, "Host")
    partner = make_company(client, "Partner")
    program_id = record(
        client, host, "program", "EMEA resell", core={"description": "Resell our cloud in EMEA"}
    )
    join(client, host, "program", program_id, partner)
    url = f"{API}/programs/{program_id}/profile"
    fresh = client.get(url, headers=partner.headers).json()
    assert fresh["version"] == 0
    assert fresh["program_type"] == "co-sell"
    assert fresh["host_company_id"] == host.company_id
    assert fresh["can_edit"] is False
    assert fresh["description"] == "Resell our cloud in EMEA"

    assert client.put(url, json=PROFILE, headers=at_version(partner, 0)).status_code == 403
    member = make_colleague(client, host, "member", inbox=inbox)
    assert client.put(url, json=PROFILE, headers=at_version(member, 0)).status_code == 403
    blind = client.put(url, json=PROFILE, headers=host.headers)
    assert blind.status_code == 428
    saved = client.put(url, json=PROFILE, headers={**host.headers, "If-Match": "0"})
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 1
    assert saved.json()["can_edit"] is True
    stale = client.put(
        url, json=PROFILE | {"status": "closed"}, headers={**host.headers, "If-Match": "0"}
    )
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 1
    seen = client.get(url, headers=partner.headers).json()
    assert {k: seen[k] for k in PROFILE} == PROFILE

    for body, path in (
        (PROFILE | {"program_type": "franchise"}, "body.program_type"),
        (PROFILE | {"region": "mars"}, "body.region"),
        (PROFILE | {"ends_on": "2025-01-01"}, "body.ends_on"),
        (PROFILE | {"extra": 1}, "body.extra"),
    ):
        response = client.put(url, json=body, headers=at_version(host, 1))
        assert response.status_code == 422, body
        assert response.json()["errors"][0]["path"] == path
    audit = client.get(f"{API}/audit-events?limit=500", headers=host.headers)
    assert "program.profile_saved" in [e["action"] for e in audit.json()["items"]]


def test_overview_lists_only_plans_the_viewer_may_see(client: TestClient) -> None:
    host = make_company(client, "Host")
    alpha = make_company(client, "Alpha")
    beta = make_company(client, "Beta")
    program_id = record(client, host, "program", "Program")
    join(client, host, "program", program_id, alpha, beta)
    for owner, title in ((alpha, "Alpha plan SECRET"), (beta, "Beta plan")):
        plan_id = record(client, owner, "plan", title)
        response = client.put(
            f"{API}/plans/{plan_id}/profile",
            json={"program_id": program_id},
            headers=at_version(owner, 0),
        )
        assert response.status_code == 200, response.text
    response = client.get(f"{API}/programs/{program_id}/overview", headers=beta.headers)
    assert response.status_code == 200
    overview = response.json()
    assert [p["title"] for p in overview["plans"]] == ["Beta plan"]
    assert "SECRET" not in response.text
    assert {p["company_id"] for p in overview["participants"]} == {
        host.company_id,
        alpha.company_id,
        beta.company_id,
    }
    assert overview["profile"]["program_id"] == program_id


def test_a_plan_joins_a_program_only_when_its_owner_is_on_it(client: TestClient) -> None:
    host = make_company(client, "Host")
    other = make_company(client, "Other")
    program_id = record(client, host, "program", "Program")
    client.post(
        f"{API}/programs/{program_id}/participants",
        json={"company_id": other.company_id},
        headers=host.headers,
    )  # invited, never accepted
    plan_id = record(client, other, "plan", "Plan")
    response = client.put(
        f"{API}/plans/{plan_id}/profile",
        json={"program_id": program_id},
        headers=at_version(other, 0),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "body.program_id"


def test_outsiders_get_404(client: TestClient) -> None:
    host = make_company(client, "Host")
    outsider = make_company(client, "Outsider")
    program_id = record(client, host, "program", "Hidden program")
    for method, path, body in (
        ("GET", "profile", None),
        ("PUT", "profile", PROFILE),
        ("GET", "overview", None),
    ):
        response = client.request(
            method,
            f"{API}/programs/{program_id}/{path}",
            json=body,
            headers=at_version(outsider, 0),
        )
        assert response.status_code == 404, (method, path)
        assert "Hidden program" not in response.text
