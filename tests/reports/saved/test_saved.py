"""Saved reports and dashboards as users meet them: who may open one, and that opening one
always computes over what the *viewer* may see, never over its author's data."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.fixtures.builders import Member, make_colleague, make_company, make_partnership
from tests.fixtures.cosell import fill, join, link, plan, record, template
from tests.fixtures.smtp import Inbox
from tests.fixtures.versions import matching

REPORTS = "/api/v1/reports"
DASHBOARDS = "/api/v1/dashboards"
COUNT_BY_STAGE: dict[str, Any] = {
    "kind": "opportunity",
    "group_by": ["stage"],
    "measures": [{"op": "count"}],
}
MY_AMOUNT: dict[str, Any] = {
    "kind": "opportunity",
    "measures": [{"op": "count"}, {"op": "sum", "field": "mine.amount"}],
}


def _save(
    client: TestClient, who: Member, definition: dict[str, Any], **body: Any
) -> dict[str, Any]:
    response = client.post(
        REPORTS,
        json={"name": body.pop("name", "My report"), "definition": definition, **body},
        headers=who.headers,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _shared(
    users: tuple[Member, ...] | list[Member] = (),
    companies: tuple[Member, ...] | list[Member] = (),
) -> dict[str, Any]:
    return {"users": [u.user_id for u in users], "companies": [c.company_id for c in companies]}


def _run(client: TestClient, who: Member, report_id: str) -> Any:
    return client.post(f"{REPORTS}/{report_id}/run", headers=who.headers)


def test_a_saved_report_opens_for_its_owner_chosen_colleagues_and_partners_only(
    client: TestClient, inbox: Inbox
) -> None:
    acme = make_company(client, "Acme")
    chosen = make_colleague(client, acme, inbox=inbox)
    other = make_colleague(client, acme, inbox=inbox)
    globex = make_company(client, "Globex")
    stranger = make_company(client, "Stranger")
    make_partnership(client, acme, globex)
    report = _save(
        client, acme, COUNT_BY_STAGE, shared_with=_shared([chosen], [globex]), chart_type="pie"
    )
    url = f"{REPORTS}/{report['id']}"

    for viewer in (acme, chosen, globex):
        response = client.get(url, headers=viewer.headers)
        assert response.status_code == 200, response.text
        assert [r["id"] for r in client.get(REPORTS, headers=viewer.headers).json()] == [
            report["id"]
        ]
    for outsider in (other, stranger):
        assert client.get(url, headers=outsider.headers).status_code == 404
        assert _run(client, outsider, report["id"]).status_code == 404
        assert client.get(REPORTS, headers=outsider.headers).json() == []
    # a partner does not learn whom else the author shared it with
    seen_by_partner = client.get(url, headers=globex.headers).json()
    assert seen_by_partner["shared_with"] is None
    assert chosen.user_id not in str(seen_by_partner)
    assert client.get(url, headers=acme.headers).json()["shared_with"] == _shared(
        [chosen], [globex]
    )


def test_sharing_names_only_my_colleagues_and_accepted_partners(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    pending = make_company(client, "Pending")
    make_partnership(client, acme, pending, accept=False)
    body = {"name": "R", "definition": COUNT_BY_STAGE}

    response = client.post(
        REPORTS, json={**body, "shared_with": _shared(companies=[pending])}, headers=acme.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "body.shared_with.companies.0"
    response = client.post(
        REPORTS, json={**body, "shared_with": _shared(users=[pending])}, headers=acme.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "body.shared_with.users.0"
    response = client.post(REPORTS, json={**body, "chart_type": "radar"}, headers=acme.headers)
    assert response.status_code == 422


def test_a_partner_running_a_shared_report_gets_its_own_numbers_never_the_authors(
    client: TestClient,
) -> None:
    acme = make_company(client, "Acme")
    globex = make_company(client, "Globex")
    make_partnership(client, acme, globex)
    template(client, acme, "opportunity", amount="private")
    deal = record(client, acme, "opportunity", "Joint deal", amount=777777)
    join(client, acme, "opportunity", deal, globex)
    fill(client, globex, "opportunity", deal, amount=1234)
    record(client, acme, "opportunity", "Acme alone", amount=5)
    report = _save(client, acme, MY_AMOUNT, shared_with=_shared(companies=[globex]))

    mine = _run(client, acme, report["id"])
    assert mine.status_code == 200, mine.text
    assert mine.json()["totals"]["measures"] == {"count": 2, "sum(mine.amount)": "777782.00"}

    theirs = _run(client, globex, report["id"])
    assert theirs.status_code == 200, theirs.text
    assert theirs.json()["totals"]["measures"] == {"count": 1, "sum(mine.amount)": "1234.00"}
    assert "777777" not in theirs.text
    assert theirs.json()["currency"]


def test_a_field_the_partner_cannot_see_answers_the_400_for_the_partner(
    client: TestClient,
) -> None:
    acme = make_company(client, "Acme")
    globex = make_company(client, "Globex")
    initech = make_company(client, "Initech")
    make_partnership(client, acme, globex)
    make_partnership(client, acme, initech)
    make_partnership(client, initech, globex)
    # Initech shares its amount with Acme only
    template(client, initech, "opportunity", amount={"companies": [acme.company_id]})
    deal = record(client, initech, "opportunity", "Initech deal", amount=424242)
    join(client, initech, "opportunity", deal, acme, globex)
    definition = {
        "kind": "opportunity",
        "measures": [{"op": "sum", "field": f"{initech.company_id}.amount"}],
    }
    report = _save(client, acme, definition, shared_with=_shared(companies=[globex]))

    author = _run(client, acme, report["id"])
    assert author.status_code == 200, author.text
    assert "424242.00" in author.text

    partner = _run(client, globex, report["id"])
    assert partner.status_code == 400, partner.text
    assert partner.json()["type"].endswith("/field-not-visible")
    assert "424242.00" not in partner.text


def test_only_the_owner_edits_and_a_stale_version_answers_412(
    client: TestClient, inbox: Inbox
) -> None:
    acme = make_company(client, "Acme")
    colleague = make_colleague(client, acme, inbox=inbox)
    globex = make_company(client, "Globex")
    make_partnership(client, acme, globex)
    report = _save(client, acme, COUNT_BY_STAGE, shared_with=_shared([colleague], [globex]))
    url = f"{REPORTS}/{report['id']}"
    body = {"name": "Renamed", "definition": MY_AMOUNT, "chart_type": "table"}
    assert report["version"] == 1

    updated = client.put(url, json=body, headers={**acme.headers, "If-Match": '"1"'})
    assert updated.status_code == 200, updated.text
    assert (updated.json()["name"], updated.json()["version"]) == ("Renamed", 2)
    assert updated.json()["shared_with"] == _shared()  # the PUT replaced the shares
    stale = client.put(url, json=body, headers={**acme.headers, "If-Match": "1"})
    assert stale.status_code == 412
    assert client.get(url, headers=globex.headers).status_code == 404  # no longer shared

    reshared = client.put(
        url,
        json={**body, "shared_with": _shared([colleague], [globex])},
        headers={**acme.headers, "If-Match": "2"},
    )
    assert reshared.status_code == 200, reshared.text
    for viewer in (colleague, globex):
        assert client.put(url, json=body, headers=matching(client, viewer, url)).status_code == 403
        assert client.delete(url, headers=matching(client, viewer, url)).status_code == 403
    assert client.delete(url, headers=acme.headers).status_code == 428
    assert client.delete(url, headers={**acme.headers, "If-Match": "1"}).status_code == 412
    assert client.delete(url, headers={**acme.headers, "If-Match": "3"}).status_code == 204
    assert client.get(url, headers=acme.headers).status_code == 404


def test_revoking_the_partnership_ends_the_share(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    globex = make_company(client, "Globex")
    partnership = make_partnership(client, acme, globex)
    report = _save(client, acme, COUNT_BY_STAGE, shared_with=_shared(companies=[globex]))
    assert client.get(f"{REPORTS}/{report['id']}", headers=globex.headers).status_code == 200
    revoked = client.post(f"/api/v1/partnerships/{partnership}/revoke", headers=acme.headers)
    assert revoked.status_code == 200, revoked.text
    assert client.get(f"{REPORTS}/{report['id']}", headers=globex.headers).status_code == 404


def _count(run: dict[str, Any], panel: int = 0) -> int:
    return int(run["panels"][panel]["result"]["totals"]["measures"]["count"])


def test_dashboard_filter_bar_narrows_every_panel_and_runs_as_the_viewer(
    client: TestClient,
) -> None:
    acme = make_company(client, "Acme")
    globex = make_company(client, "Globex")
    initech = make_company(client, "Initech")
    stranger = make_company(client, "Stranger")
    make_partnership(client, acme, globex)
    make_partnership(client, acme, initech)
    template(client, acme, "opportunity", amount="private", region="private")
    with_globex = record(client, acme, "opportunity", "With Globex", amount=100, region="emea")
    join(client, acme, "opportunity", with_globex, globex)
    with_initech = record(client, acme, "opportunity", "With Initech", amount=200, region="apac")
    join(client, acme, "opportunity", with_initech, initech)
    record(client, acme, "opportunity", "Alone", amount=300, region="emea")
    report = _save(client, acme, MY_AMOUNT)
    created = client.post(
        DASHBOARDS,
        json={
            "name": "Board",
            "panels": [{"report_id": report["id"], "chart_type": "bar"}],
            "filters": {"partner": globex.company_id},
            "shared_with": _shared(companies=[globex]),
        },
        headers=acme.headers,
    )
    assert created.status_code == 201, created.text
    run_url = f"{DASHBOARDS}/{created.json()['id']}/run"

    stored = client.post(run_url, headers=acme.headers).json()
    assert _count(stored) == 1
    assert stored["panels"][0]["result"]["totals"]["measures"]["sum(mine.amount)"] == "100.00"
    assert (
        _count(
            client.post(run_url, json={"partner": initech.company_id}, headers=acme.headers).json()
        )
        == 1
    )
    assert _count(client.post(run_url, json={}, headers=acme.headers).json()) == 3
    assert _count(client.post(run_url, json={"region": "emea"}, headers=acme.headers).json()) == 2

    # the partner opens the shared dashboard (the panel's report itself was not shared with it)
    fill(client, globex, "opportunity", with_globex, amount=9)
    theirs = client.post(run_url, json={}, headers=globex.headers)
    assert theirs.status_code == 200, theirs.text
    assert _count(theirs.json()) == 1
    assert theirs.json()["panels"][0]["result"]["totals"]["measures"]["sum(mine.amount)"] == "9.00"
    assert "100.00" not in theirs.text
    assert client.post(run_url, headers=stranger.headers).status_code == 404


def test_dashboard_panels_and_filters_are_checked(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    globex = make_company(client, "Globex")
    stranger = make_company(client, "Stranger")
    hidden = _save(client, globex, COUNT_BY_STAGE)
    response = client.post(
        DASHBOARDS,
        json={"name": "B", "panels": [{"report_id": hidden["id"]}]},
        headers=acme.headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "body.panels.0.report_id"
    response = client.post(
        DASHBOARDS,
        json={"name": "B", "filters": {"partner": stranger.company_id}},
        headers=acme.headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "body.filters.partner"


def test_dashboard_crud_with_412(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    report = _save(client, acme, COUNT_BY_STAGE)
    body = {"name": "Weekly", "panels": [{"report_id": report["id"]}]}
    created = client.post(DASHBOARDS, json=body, headers=acme.headers).json()
    url = f"{DASHBOARDS}/{created['id']}"
    assert client.get(DASHBOARDS, headers=acme.headers).json()[0]["name"] == "Weekly"
    renamed = client.put(
        url, json={**body, "name": "QBR"}, headers={**acme.headers, "If-Match": "1"}
    )
    assert renamed.status_code == 200
    assert renamed.json()["version"] == 2
    assert client.put(url, json=body, headers={**acme.headers, "If-Match": "1"}).status_code == 412
    # a panel whose report was deleted says so instead of failing the dashboard
    report_url = f"{REPORTS}/{report['id']}"
    assert client.delete(report_url, headers=matching(client, acme, report_url)).status_code == 204
    run = client.post(f"{url}/run", headers=acme.headers).json()
    assert run["panels"][0]["error"] == "This report was deleted."
    assert client.delete(url, headers={**acme.headers, "If-Match": "2"}).status_code == 204
    assert client.get(url, headers=acme.headers).status_code == 404


def test_partnership_health_default_dashboard_covers_that_partner_only(
    client: TestClient,
) -> None:
    acme = make_company(client, "Acme")
    globex = make_company(client, "Globex")
    initech = make_company(client, "Initech")
    stranger = make_company(client, "Stranger")
    make_partnership(client, acme, globex)
    make_partnership(client, acme, initech)
    deal = record(client, acme, "opportunity", "With Globex", amount=100)
    join(client, acme, "opportunity", deal, globex)
    other = record(client, acme, "opportunity", "With Initech", amount=200)
    join(client, acme, "opportunity", other, initech)

    url = f"{DASHBOARDS}/defaults/partners/{globex.company_id}/run"
    health = client.post(url, headers=acme.headers)
    assert health.status_code == 200, health.text
    body = health.json()
    assert body["name"] == "Partnership health: Globex"
    assert [p["name"] for p in body["panels"]][:4] == [
        "Opportunities by stage",
        "My amount by stage",
        "Win rate",
        "Pipeline by quarter",
    ]
    assert body["panels"][0]["result"]["totals"]["measures"]["count"] == 1
    url = f"{DASHBOARDS}/defaults/partners/{stranger.company_id}/run"
    assert client.post(url, headers=acme.headers).status_code == 404


def test_pipeline_default_dashboard_covers_the_plans_linked_records(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    globex = make_company(client, "Globex")
    stranger = make_company(client, "Stranger")
    make_partnership(client, acme, globex)
    plan_id = plan(client, acme, "H1 plan", globex)
    linked = record(client, acme, "opportunity", "Linked", amount=100)
    record(client, acme, "opportunity", "Not linked", amount=200)
    link(client, acme, plan_id, linked)

    url = f"{DASHBOARDS}/defaults/plans/{plan_id}/run"
    pipeline = client.post(url, headers=acme.headers)
    assert pipeline.status_code == 200, pipeline.text
    assert pipeline.json()["name"] == "Pipeline: H1 plan"
    assert _count(pipeline.json()) == 1
    assert client.post(url, headers=stranger.headers).status_code == 404
    # Globex is on the plan but cannot see the linked opportunity: nothing counted for it
    assert _count(client.post(url, headers=globex.headers).json()) == 0
