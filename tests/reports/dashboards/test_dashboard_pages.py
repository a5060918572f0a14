"""Building and editing a dashboard with the page's forms (no API), and downloading the
builder's unsaved report: what the owner can change, the messages it gets when a form is wrong
or stale, and that nobody else can change it."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import httpx
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.fixtures.builders import Member, make_company
from tests.fixtures.reports import CANARY, partner_network
from tests.web.conftest import Browser
from tests.web.html import Form, Page, parse
from tests.web.test_network_pages import signed_in

SHOWN = "777,777"
SAVE = "Save name and sharing"  # the button of the name-and-sharing form
BY_STAGE: dict[str, Any] = {
    "kind": "opportunity",
    "group_by": ["stage"],
    "measures": [{"op": "count"}, {"op": "sum", "field": "mine.amount"}],
}


def _network(client: TestClient) -> tuple[Member, Member]:
    return partner_network(client)


def _save(client: TestClient, who: Member, name: str, definition: dict[str, Any]) -> str:
    response = client.post(
        "/api/v1/reports",
        json={"name": name, "definition": definition, "chart_type": "bar"},
        headers=who.headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _stored(client: TestClient, who: Member, board_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/dashboards/{board_id}", headers=who.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _panel_form(page: Page, board_id: str, op: str, index: int | None = None) -> Form:
    """The editor's form that applies `op` (to the panel at `index`)."""
    for form in page.forms(f"/dashboards/{board_id}/panels"):
        fields = form.fields()
        if fields.get("op") == op and (index is None or fields.get("index") == str(index)):
            return form
    raise AssertionError(f"no {op} form for panel {index}")


def _post(browser: Browser, action: str, form: Form, **data: Any) -> httpx.Response:
    response: httpx.Response = browser.client.post(action, data={**form.fields(), **data})
    return response


def _create(browser: Browser, name: str, report_ids: list[str]) -> str:
    response = browser.submit(
        "/reports", "/dashboards/new", {"name": name, "report_ids": report_ids}
    )
    assert response.status_code == 200, response.text[:2000]
    assert response.url.path.startswith("/dashboards/"), response.url
    return response.url.path.rsplit("/", 1)[1]


def test_an_owner_builds_renames_reorders_and_shares_a_dashboard_with_the_pages_forms(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme, globex = _network(client)
    stage = _save(client, acme, "By stage", BY_STAGE)
    total = _save(client, acme, "Total", {"kind": "opportunity", "measures": [{"op": "count"}]})
    won = _save(client, acme, "Won", {**BY_STAGE, "group_by": ["partner"]})
    owner = signed_in(new_browser, acme)

    board_id = _create(owner, "QBR draft", [stage, total])
    url = f"/dashboards/{board_id}"
    assert [p["report_id"] for p in _stored(client, acme, board_id)["panels"]] == [stage, total]

    # add a third panel, shown as a pie
    page = owner.page(url)
    assert "Won" in [o.text for o in page.root.iter("option") if o.attrs.get("value") == won]
    added = _post(
        owner, f"{url}/panels", _panel_form(page, board_id, "add"), report_id=won, chart_type="pie"
    )
    assert added.status_code == 200, added.text[:2000]
    assert "Panel added." in parse(added.text).flashes()
    panels = _stored(client, acme, board_id)["panels"]
    assert panels[2] == {"report_id": won, "chart_type": "pie"}

    # the first panel down, then the (now) second removed: Total, Won remain
    page = parse(added.text)
    moved = _post(owner, f"{url}/panels", _panel_form(page, board_id, "down", 0))
    assert "Panel moved down." in parse(moved.text).flashes()
    order = [p["report_id"] for p in _stored(client, acme, board_id)["panels"]]
    assert order == [total, stage, won]
    removed = _post(owner, f"{url}/panels", _panel_form(parse(moved.text), board_id, "remove", 1))
    assert "Panel removed." in parse(removed.text).flashes()
    order = [p["report_id"] for p in _stored(client, acme, board_id)["panels"]]
    assert order == [total, won]
    # the first panel cannot move up, the last not down: those buttons are off
    page = parse(removed.text)
    up = _panel_form(page, board_id, "up", 0).element.find("button")
    down = _panel_form(page, board_id, "down", 1).element.find("button")
    assert up is not None
    assert down is not None
    assert "disabled" in up.attrs
    assert "disabled" in down.attrs

    # renamed and shared with Globex through the "Share" section
    saved = owner.submit(
        url, url, {"name": "Q3 review", "share_companies": [globex.company_id]}, containing=SAVE
    )
    assert saved.status_code == 200, saved.text[:2000]
    assert parse(saved.text).h1 == ["Q3 review"]
    stored = _stored(client, acme, board_id)
    assert stored["name"] == "Q3 review"
    assert stored["shared_with"]["companies"] == [globex.company_id]
    assert [p["report_id"] for p in stored["panels"]] == [total, won]  # panels kept
    assert SHOWN in owner.get(url).text

    # Globex opens it: every panel over what Globex may see, and no editor
    partner = signed_in(new_browser, globex)
    assert url in partner.page("/reports").links()
    theirs = partner.page(url)
    assert theirs.h1 == ["Q3 review"]
    assert CANARY not in theirs.html
    assert SHOWN not in theirs.html
    assert not theirs.forms(f"{url}/panels")
    assert [f.method for f in theirs.forms(url)] == ["get"]  # the filter bar only


def test_editor_forms_say_what_is_wrong_next_to_the_field(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme, _ = _network(client)
    stage = _save(client, acme, "By stage", BY_STAGE)
    stranger = make_company(client, "Stranger")
    hidden = _save(client, stranger, "Not yours", BY_STAGE)
    owner = signed_in(new_browser, acme)

    # a new dashboard needs a name: the index shows the form again, open, with the message
    refused = owner.submit("/reports", "/dashboards/new", {"name": "", "report_ids": [stage]})
    assert refused.status_code == 422
    page = parse(refused.text)
    assert page.errors()["name"] == "This field is required."
    details = [d for d in page.root.iter("details") if "report-new-dashboard" in d.classes()]
    assert "open" in details[0].attrs
    assert page.form("/dashboards/new").fields()["report_ids"] == stage  # still ticked

    board_id = _create(owner, "Board", [stage])
    url = f"/dashboards/{board_id}"
    page = owner.page(url)
    no_report = _post(owner, f"{url}/panels", _panel_form(page, board_id, "add"), report_id="")
    assert no_report.status_code == 422
    assert parse(no_report.text).errors()["report_id"] == "Choose a saved report to add."
    someone_elses = _post(
        owner, f"{url}/panels", _panel_form(page, board_id, "add"), report_id=hidden
    )
    assert someone_elses.status_code == 422
    assert "saved report you can see" in parse(someone_elses.text).errors()["report_id"]
    blank = owner.submit(url, url, {"name": ""}, containing=SAVE)
    assert blank.status_code == 422
    assert parse(blank.text).errors()["name"] == "This field is required."
    assert _stored(client, acme, board_id)["name"] == "Board"

    # twelve panels at most
    for _ in range(11):
        page = owner.page(url)
        assert (
            _post(
                owner, f"{url}/panels", _panel_form(page, board_id, "add"), report_id=stage
            ).status_code
            == 200
        )
    page = owner.page(url)
    add = _panel_form(page, board_id, "add")
    button = add.element.find("button")
    assert button is not None
    assert "disabled" in button.attrs
    full = _post(owner, f"{url}/panels", add, report_id=stage)
    assert full.status_code == 422
    assert "at most 12 panels" in parse(full.text).errors()["report_id"]
    assert len(_stored(client, acme, board_id)["panels"]) == 12


def test_a_stale_edit_is_refused_and_the_dashboard_shown_as_it_is_now(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme, _ = _network(client)
    stage = _save(client, acme, "By stage", BY_STAGE)
    total = _save(client, acme, "Total", {"kind": "opportunity", "measures": [{"op": "count"}]})
    owner = signed_in(new_browser, acme)
    board_id = _create(owner, "Board", [stage, total])
    url = f"/dashboards/{board_id}"
    old_page = owner.page(url)

    # meanwhile, the same dashboard changed in another tab
    current = _stored(client, acme, board_id)
    changed = client.put(
        f"/api/v1/dashboards/{board_id}",
        json={"name": "Renamed elsewhere", "panels": [{"report_id": total}]},
        headers={**acme.headers, "If-Match": f'"{current["version"]}"'},
    )
    assert changed.status_code == 200, changed.text

    stale = _post(owner, f"{url}/panels", _panel_form(old_page, board_id, "remove", 1))
    assert stale.status_code == 412
    page = parse(stale.text)
    assert "Someone changed this since you opened it" in page.errors()["form"]
    assert page.h1 == ["Renamed elsewhere"]
    assert [p["report_id"] for p in _stored(client, acme, board_id)["panels"]] == [total]
    rename = owner.client.post(url, data={**old_page.form(url, SAVE).fields(), "name": "Mine"})
    assert rename.status_code == 412
    assert _stored(client, acme, board_id)["name"] == "Renamed elsewhere"
    # the page shown carries the current version: the same change now goes through
    again = _post(owner, url, page.form(url, SAVE), name="Mine")
    assert again.status_code == 200, again.text[:2000]
    assert _stored(client, acme, board_id)["name"] == "Mine"


def test_only_the_owner_can_change_a_dashboard(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme, globex = _network(client)
    stage = _save(client, acme, "By stage", BY_STAGE)
    owner = signed_in(new_browser, acme)
    board_id = _create(owner, "Board", [stage])
    url = f"/dashboards/{board_id}"
    owner.submit(url, url, {"share_companies": [globex.company_id]}, containing=SAVE)
    token = owner.page(url).form(url, SAVE).fields()["csrf_token"]

    partner = signed_in(new_browser, globex)
    partner_token = partner.page(url).form("/logout").fields()["csrf_token"]
    for action, data in (
        (url, {"name": "Hijacked"}),
        (f"{url}/panels", {"op": "remove", "index": "0"}),
    ):
        response = partner.client.post(action, data={**data, "csrf_token": partner_token})
        assert response.status_code == 403, response.text[:1000]
        assert "Only the dashboard's owner" in parse(response.text).errors()["form"]
    stored = _stored(client, acme, board_id)
    assert stored["name"] == "Board"
    assert len(stored["panels"]) == 1

    stranger = signed_in(new_browser, make_company(client, "Stranger"))
    stranger_token = stranger.page("/reports").form("/logout").fields()["csrf_token"]
    response = stranger.client.post(url, data={"name": "x", "csrf_token": stranger_token})
    assert response.status_code == 404
    assert token  # the owner's own form did carry a token


def _download(browser: Browser, data: dict[str, Any]) -> httpx.Response:
    """Press the builder's "Download CSV/Excel" (a button posting the form elsewhere)."""
    form = browser.page("/reports/new").form("/reports/new")
    buttons = {
        str(b.attrs.get("value")): b.text
        for b in form.element.iter("button")
        if b.attrs.get("formaction") == "/reports/preview/export"
    }
    assert buttons == {"csv": "Download CSV", "xlsx": "Download Excel"}
    response: httpx.Response = browser.client.post(
        "/reports/preview/export", data={**form.fields(), **data}
    )
    return response


def _csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_the_builder_downloads_an_unsaved_report_as_csv_and_xlsx(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme, globex = _network(client)
    owner = signed_in(new_browser, acme)
    form = {
        "name": "Unsaved pipeline",
        "kind": "opportunity",
        "chart_type": "bar",
        "group_by.0": "stage",
        "measures": ["count", "sum:mine.amount"],
        "export": "csv",
    }
    response = _download(owner, form)
    assert response.status_code == 200, response.text[:2000]
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="Unsaved-pipeline.csv"' in response.headers["content-disposition"]
    # the same file as the API's export of that definition run as the user
    api = client.post(
        "/api/v1/reports/run/export", params={"format": "csv"}, json=BY_STAGE, headers=acme.headers
    )
    assert _csv(response.content)[:5] == _csv(api.content)[:5]
    assert _csv(response.content)[0] == ["Stage", "Count", "Sum of my amount"]
    assert "777777.00" in response.text
    assert not owner.page("/reports").root.find("table")  # nothing was saved

    xlsx = _download(owner, {**form, "export": "xlsx"})
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content))["Report"]
    assert next(sheet.iter_rows(values_only=True))[:3] == ("Stage", "Count", "Sum of my amount")

    # a form that describes no report, or one the user may not run: the builder says why
    # (a filter row that is not a number is marked next to its row; it used to be JSON typed
    # into a "filters" box, which the builder no longer has)
    not_a_number = {
        "filter_row": "0",
        "filter.0.field": "mine.amount",
        "filter.0.op": "gte",
        "filter.0.value": "lots",
    }
    bad = _download(owner, {**form, **not_a_number})
    assert bad.status_code == 422
    assert "Enter a value (a number" in parse(bad.text).errors()["filter.0.field"]
    hidden_field = {**form, "measures": [f"sum:{globex.company_id}.amount"]}
    refused = _download(owner, hidden_field)
    assert refused.status_code == 422
    assert parse(refused.text).errors()["form"]
    assert "55.00" not in refused.text
