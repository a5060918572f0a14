"""Forms that write versioned data carry the version the page showed and send it as If-Match: a
form opened before someone else's change is refused with a clear message on the page (never a
500, never a silent overwrite), and so is a form without a version at all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from fastapi.testclient import TestClient

from coterie.web.forms import STALE_FORM
from tests.fixtures.activity import comment
from tests.fixtures.builders import make_company, make_partnership
from tests.fixtures.cosell import fill, goal, join, plan, record
from tests.fixtures.versions import at_version, matching
from tests.web.conftest import Browser
from tests.web.html import Page, parse
from tests.web.test_network_pages import signed_in
from tests.web.test_record_pages import htmx

BIG = {"field": "mine.amount", "op": "gte", "value": 1}
STALE_START = STALE_FORM.split(",")[0]  # "Someone changed this since you opened it"


def _said(response: httpx.Response) -> str:
    assert response.status_code < 500, response.text[:2000]
    page = parse(response.text)
    return " ".join([*page.flashes(), *page.errors().values(), page.text])


def _post(browser: Browser, form_page: Page, action: str, **changes: Any) -> httpx.Response:
    fields: dict[str, Any] = dict(form_page.form(action).fields()) | changes
    return browser.client.post(action, data=fields, follow_redirects=True)


def _without_version(browser: Browser, form_page: Page, action: str) -> httpx.Response:
    fields: dict[str, Any] = dict(form_page.form(action).fields())
    fields.pop("version")
    return browser.client.post(action, data=fields, follow_redirects=True)


def test_rule_toggle_and_delete(client: TestClient, new_browser: Callable[[], Browser]) -> None:
    acme = make_company(client, "Acme")
    rule = {
        "kind": "opportunity",
        "type": "visibility",
        "name": "EMEA",
        "condition": {"field": "region", "op": "eq", "value": "emea"},
        "grantees": {"users": [acme.user_id]},
    }
    created = client.post("/api/v1/rules", json=rule, headers=acme.headers).json()
    url = f"/api/v1/rules/{created['id']}"
    browser = signed_in(new_browser, acme)
    opened = browser.page("/settings/rules?kind=opportunity")
    renamed = client.put(
        url, json={**rule, "name": "EMEA deals"}, headers=matching(client, acme, url)
    )
    assert renamed.status_code == 200

    for action in ("toggle", "delete"):
        answer = _post(browser, opened, f"/settings/rules/{created['id']}/{action}")
        assert STALE_START in _said(answer)
    stored = client.get(url, headers=acme.headers).json()
    assert (stored["name"], stored["enabled"], stored["version"]) == ("EMEA deals", True, 2)
    fresh = browser.page("/settings/rules?kind=opportunity")
    missing = _without_version(browser, fresh, f"/settings/rules/{created['id']}/toggle")
    assert STALE_START in _said(missing)
    assert client.get(url, headers=acme.headers).json()["enabled"] is True
    toggled = _post(browser, fresh, f"/settings/rules/{created['id']}/toggle")
    assert "disabled" in _said(toggled)


def test_workflow_definition_save_and_delete(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    wf = client.post(
        "/api/v1/workflows", json={"template": "standard_pipeline"}, headers=acme.headers
    ).json()
    url = f"/api/v1/workflows/{wf['id']}"
    page_url = f"/settings/workflows/{wf['id']}"
    browser = signed_in(new_browser, acme)
    opened = browser.page(page_url)
    body = {"name": "Renamed elsewhere", "stages": wf["stages"], "transitions": []}
    assert client.put(url, json=body, headers=matching(client, acme, url)).status_code == 200

    saved = _post(browser, opened, page_url, name="Mine")
    assert saved.status_code == 409
    assert "Someone saved this workflow since you opened it" in parse(saved.text).errors()["form"]
    deleted = _post(browser, opened, f"{page_url}/delete")
    assert STALE_START in _said(deleted)
    assert client.get(url, headers=acme.headers).json()["name"] == "Renamed elsewhere"


def test_registration_settings_and_decision(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    reseller, vendor = make_company(client, "Reseller"), make_company(client, "Vendor")
    make_partnership(client, reseller, vendor)
    browser = signed_in(new_browser, vendor)
    opened = browser.page("/settings/registrations")
    settings = {"expiry_days": 10, "renewal_days": 10, "max_renewals": 1}
    put = client.put("/api/v1/registration-settings", json=settings, headers=at_version(vendor, 0))
    assert put.status_code == 200
    answer = _post(browser, opened, "/settings/registrations", expiry_days="99")
    assert answer.status_code == 409
    assert parse(answer.text).errors()["form"] == STALE_FORM
    assert (
        client.get("/api/v1/registration-settings", headers=vendor.headers).json()["expiry_days"]
        == 10
    )

    deal = record(client, reseller, "opportunity", "Registered deal")
    join(client, reseller, "opportunity", deal, vendor)
    draft = client.post(
        f"/api/v1/opportunities/{deal}/registrations",
        json={"registered_to_company_id": vendor.company_id},
        headers=reseller.headers,
    ).json()
    reg = f"/api/v1/registrations/{draft['id']}"
    assert client.post(f"{reg}/submit", headers=at_version(reseller, 1)).status_code == 200
    panel_url = f"/opportunities/{deal}/pipeline"
    headers = htmx(browser, f"/opportunities/{deal}")
    panel = parse(browser.get(panel_url, headers=headers).text)
    # the reseller changes its mind meanwhile: withdrawn and submitted again is another version
    rejected = client.post(
        f"{reg}/reject", json={"reason": "other tab"}, headers=matching(client, vendor, reg)
    )
    assert rejected.status_code == 200
    approve = f"/registrations/{draft['id']}/approve"
    answer = _post(browser, panel, approve, next="/registrations")
    assert STALE_START in _said(answer)
    in_panel = browser.client.post(
        approve, data=dict(panel.form(approve).fields()), headers=headers
    )
    assert in_panel.status_code == 409  # the panel again, as it is now, saying why
    assert STALE_FORM in in_panel.text
    assert "Rejected" in parse(in_panel.text).text
    assert client.get(reg, headers=reseller.headers).json()["status"] == "rejected"


def test_plan_goal_delete_and_program_profile(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    plan_id = plan(client, acme, "Plan")
    made = goal(client, acme, plan_id, metric="opportunity_count", target=3)
    browser = signed_in(new_browser, acme)
    headers = htmx(browser, f"/plans/{plan_id}")
    panel = parse(browser.get(f"/plans/{plan_id}/cosell", headers=headers).text)
    goal_url = f"/api/v1/plans/{plan_id}/goals/{made['id']}"
    patched = client.patch(goal_url, json={"target": 9}, headers=matching(client, acme, goal_url))
    assert patched.status_code == 200
    action = f"/plans/{plan_id}/cosell/goals/{made['id']}/delete"
    fields = dict(panel.form(action).fields())
    answer = browser.client.post(action, data=fields, headers=headers)
    assert answer.status_code == 412
    assert STALE_FORM in parse(answer.text).errors()["form"]
    assert client.get(goal_url, headers=acme.headers).json()["target"] == "9.00"

    program = record(client, acme, "program", "Program")
    profile = f"/api/v1/programs/{program}/profile"
    headers = htmx(browser, f"/programs/{program}")
    panel = parse(browser.get(f"/programs/{program}/cosell", headers=headers).text)
    saved = client.put(profile, json={"status": "active"}, headers=at_version(acme, 0))
    assert saved.status_code == 200
    action = f"/programs/{program}/cosell/profile"
    fields = dict(panel.form(action).fields()) | {"status": "closed"}
    answer = browser.client.post(action, data=fields, headers=headers)
    assert answer.status_code == 412
    assert STALE_FORM in parse(answer.text).errors()["form"]
    assert client.get(profile, headers=acme.headers).json()["status"] == "active"


def test_comment_delete_task_done_and_saved_view_delete(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    deal = record(client, acme, "opportunity", "Deal", amount=10)
    note = comment(client, acme, deal, "first")
    task = client.post(
        f"/api/v1/opportunities/{deal}/tasks", json={"title": "Call"}, headers=acme.headers
    ).json()
    browser = signed_in(new_browser, acme)
    headers = htmx(browser, f"/opportunities/{deal}")
    activity = parse(browser.get(f"/opportunities/{deal}/activity", headers=headers).text)
    workflow_panel = parse(
        browser.get(f"/opportunities/{deal}/workflow-panel", headers=headers).text
    )
    comment_url = f"/api/v1/comments/{note['id']}"
    edited = client.patch(
        comment_url, json={"body": "second"}, headers=matching(client, acme, comment_url)
    )
    assert edited.status_code == 200
    task_url = f"/api/v1/tasks/{task['id']}"
    retitled = client.patch(
        task_url, json={"title": "Call back"}, headers=matching(client, acme, task_url)
    )
    assert retitled.status_code == 200

    action = f"/comments/{note['id']}/delete"
    answer = browser.client.post(action, data=dict(activity.form(action).fields()), headers=headers)
    assert answer.status_code == 409
    assert STALE_FORM in answer.text
    assert client.get(comment_url, headers=acme.headers).json()["body"] == "second"
    action = f"/opportunities/{deal}/workflow-panel/tasks/{task['id']}/done"
    fields = dict(workflow_panel.form(action).fields()) | {"done": "1"}
    answer = browser.client.post(action, data=fields, headers=headers)
    assert answer.status_code == 409
    assert "Someone changed this record meanwhile" in answer.text
    assert client.get(task_url, headers=acme.headers).json()["done"] is False

    view = client.post(
        "/api/v1/saved-filters",
        json={"kind": "opportunity", "name": "Mine", "filter": BIG},
        headers=acme.headers,
    ).json()
    opened = browser.page(f"/opportunities?view={view['id']}")
    view_url = f"/api/v1/saved-filters/{view['id']}"
    renamed = client.put(
        view_url,
        json={"kind": "opportunity", "name": "Renamed", "filter": BIG},
        headers=matching(client, acme, view_url),
    )
    assert renamed.status_code == 200
    answer = _post(browser, opened, f"/opportunities/views/{view['id']}/delete")
    assert STALE_START in _said(answer)
    assert client.get(view_url, headers=acme.headers).json()["name"] == "Renamed"


def test_report_and_dashboard_delete(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    body = {"name": "Count", "definition": {"kind": "opportunity"}}
    report = client.post("/api/v1/reports", json=body, headers=acme.headers).json()
    board = client.post(
        "/api/v1/dashboards",
        json={"name": "Board", "panels": [{"report_id": report["id"]}]},
        headers=acme.headers,
    ).json()
    browser = signed_in(new_browser, acme)
    report_page = browser.page(f"/reports/{report['id']}")
    board_page = browser.page(f"/dashboards/{board['id']}")
    for url, change in (
        (f"/api/v1/reports/{report['id']}", {**body, "name": "Renamed"}),
        (
            f"/api/v1/dashboards/{board['id']}",
            {"name": "Renamed", "panels": [{"report_id": report["id"]}]},
        ),
    ):
        assert client.put(url, json=change, headers=matching(client, acme, url)).status_code == 200

    for page, action in (
        (report_page, f"/reports/{report['id']}/delete"),
        (board_page, f"/dashboards/{board['id']}/delete"),
    ):
        assert STALE_START in _said(_post(browser, page, action))
    assert client.get(f"/api/v1/reports/{report['id']}", headers=acme.headers).status_code == 200
    assert client.get(f"/api/v1/dashboards/{board['id']}", headers=acme.headers).status_code == 200


def test_a_space_form_with_a_bogus_version_says_reload(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    deal = record(client, acme, "opportunity", "Deal", amount=10)
    fill(client, acme, "opportunity", deal, amount=20)
    browser = signed_in(new_browser, acme)
    url = f"/opportunities/{deal}"
    headers = htmx(browser, url)
    editing = parse(browser.client.get(f"{url}/space/edit", headers=headers).text)
    fields: dict[str, Any] = dict(editing.form(f"{url}/space").fields())
    fields["version"] = "²"  # '²'.isdigit() is True: once a 500
    answer = browser.client.post(f"{url}/space", data=fields, headers=headers)
    assert answer.status_code == 422
    assert "lost its version number" in answer.text
    record_out = client.get(f"/api/v1/opportunities/{deal}", headers=acme.headers).json()
    assert record_out["spaces"][0]["version"] == 2
