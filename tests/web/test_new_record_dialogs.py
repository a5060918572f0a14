"""The "New …" dialog of every record kind, driven like a browser: each kind asks for its own
fields, every field a dialog offers is accepted by the server when filled with a valid value,
errors come back inside the dialog with the input kept, and a stage is chosen from the
company's workflow."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from coterie.fields.kinds import KINDS, Kind
from tests.fixtures.builders import Member, make_company, make_partnership
from tests.fixtures.cosell import API, join, record
from tests.fixtures.workflows import workflow
from tests.web.conftest import Browser
from tests.web.html import Element, Form, Page, parse
from tests.web.test_network_pages import signed_in
from tests.web.test_record_pages import htmx

OPPORTUNITY_ONLY = ("Amount", "Forecast category", "Close date")


def dialog_form(page: Page, dialog_id: str = "new-record") -> Form:
    dialog = page.root.by_id(dialog_id)
    assert dialog is not None, f"no <dialog id={dialog_id}>"
    assert dialog.tag == "dialog"
    form = dialog.find("form")
    assert form is not None
    return Form(form)


def labels(form: Form) -> list[str]:
    return [label.text.replace("*", "").strip() for label in form.element.iter("label")]


def _control_value(control: Element, name: str) -> str:
    """A valid value for one offered control, as a person would choose it."""
    if control.tag == "select":
        values = [o.attrs.get("value", "") for o in control.iter("option")]
        chosen = [v for v in values if v]
        assert chosen, f"{name} offers no choice"
        return chosen[-1]
    kind = control.attrs.get("type", "text")
    if kind == "date":
        return "2027-06-30" if "end" in name else "2027-01-01"
    if name == "customer_domain":
        return "customer.example"
    if control.attrs.get("inputmode") == "decimal":
        return "1234.50" if name != "goal_target" else "12"
    return f"A {name.removeprefix('field.')} value"


def filled(form: Form) -> dict[str, Any]:
    """Every offered control of the form filled with a valid value."""
    data: dict[str, Any] = dict(form.fields())
    for control in form.element.iter():
        name = control.attrs.get("name")
        if not name or control.tag not in ("input", "select", "textarea"):
            continue
        if control.tag == "input" and control.attrs.get("type") == "hidden":
            continue
        data[name] = _control_value(control, name)
    return data


@pytest.mark.parametrize("kind", [k.value for k in Kind])
def test_every_field_a_new_dialog_offers_is_accepted(
    client: TestClient, new_browser: Callable[[], Browser], kind: str
) -> None:
    acme = make_company(client, "Acme", currency="EUR")
    partner = make_company(client, "Borealis")
    make_partnership(client, acme, partner)
    record(client, acme, "program", "Cloud program")  # a program to choose for a plan
    info = KINDS[Kind(kind)]
    browser = signed_in(new_browser, acme)
    page = browser.page(f"/{info.plural}")
    opener = page.root.find("a", id="new-record-link")
    assert opener is not None
    assert opener.attrs["data-dialog-open"] == "new-record"
    form = dialog_form(page)
    assert form.action == f"/{info.plural}"
    assert form.method == "post"
    data = filled(form)
    response = browser.client.post(form.action, data=data)
    assert response.status_code == 200, parse(response.text).errors()
    assert response.url.path.startswith(f"/{info.plural}/"), response.url
    shown = parse(response.text)
    assert f"{info.label} “A title value” created." in shown.flashes()
    record_id = response.url.path.rsplit("/", 1)[1]
    saved = client.get(f"{API}/{info.plural}/{record_id}", headers=acme.headers).json()
    assert saved["title"] == "A title value"
    mine = next(s for s in saved["spaces"] if s["is_mine"])["fields"]
    offered = {
        n.removeprefix("field.") for n in data if n.startswith("field.") and n.count(".") == 1
    }
    assert offered <= set(mine), offered - set(mine)  # every offered field of my space was saved
    if kind in ("lead", "opportunity"):
        assert saved["motion"] == data["motion"]
    if kind == "program":
        profile = client.get(f"{API}/programs/{record_id}/profile", headers=acme.headers).json()
        assert (profile["program_type"], profile["status"]) == (data["program_type"], "closed")
        assert (profile["starts_on"], profile["ends_on"]) == ("2027-01-01", "2027-06-30")
    if kind == "plan":
        profile = client.get(f"{API}/plans/{record_id}/profile", headers=acme.headers).json()
        assert profile["program_title"] == "Cloud program"
        assert (profile["period_start"], profile["period_end"]) == ("2027-01-01", "2027-06-30")
        goals = client.get(f"{API}/plans/{record_id}/goals", headers=acme.headers).json()
        assert [(g["metric"], Decimal(g["target"])) for g in goals["items"]] == [
            (data["goal_metric"], 12)
        ]
        participants = {p["company_name"]: p["status"] for p in saved["participants"]}
        assert participants["Borealis"] == "invited"


@pytest.mark.parametrize("kind", ["program", "plan", "account", "solution"])
def test_kinds_without_deals_do_not_ask_for_deal_fields(
    client: TestClient, new_browser: Callable[[], Browser], kind: str
) -> None:
    acme = make_company(client, "Acme")
    page = signed_in(new_browser, acme).page(f"/{KINDS[Kind(kind)].plural}")
    shown = labels(dialog_form(page))
    for label in (*OPPORTUNITY_ONLY, "Motion", "Customer"):
        assert not any(text.startswith(label) for text in shown), (label, shown)
    opportunity = labels(dialog_form(signed_in(new_browser, acme).page("/opportunities")))
    for label in (*OPPORTUNITY_ONLY, "Motion", "Customer", "Stage"):
        assert any(text.startswith(label) for text in opportunity), (label, opportunity)


def test_no_collapsed_form_is_left_at_the_bottom_of_a_list(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    page = signed_in(new_browser, acme).page("/programs")
    assert not [d for d in page.root.iter("details") if "new-record" in d.classes()]
    dialog = page.root.by_id("new-record")
    assert dialog is not None
    assert dialog.attrs.get("aria-labelledby") == "new-record-title"
    title = page.root.by_id("new-record-title")
    assert title is not None
    assert title.text == "New partner program"


def test_errors_come_back_into_the_dialog_with_the_input_kept(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    browser = signed_in(new_browser, acme)
    data = filled(dialog_form(browser.page("/programs"))) | {
        "title": " ",
        "starts_on": "2027-06-30",
        "ends_on": "2027-01-01",
    }
    response = browser.client.post("/programs", data=data, headers=htmx(browser, "/programs"))
    assert response.status_code == 422
    fragment = parse(response.text)
    assert fragment.errors()["title"] == "This field is required."
    form = fragment.form("/programs")
    assert form.element.attrs["hx-target"] == "#new-record-body"
    assert form.fields()["description"] == data["description"]  # the input is kept
    # a name given, the dates are still the wrong way round: the service says so next to them
    again = browser.client.post(
        "/programs", data=data | {"title": "Late"}, headers=htmx(browser, "/programs")
    )
    assert again.status_code == 422
    assert "on or after" in parse(again.text).errors()["ends_on"]
    assert client.get(f"{API}/programs", headers=acme.headers).json()["items"] == []
    # without htmx the whole page comes back with the dialog open
    page = browser.client.post("/programs", data=data)
    assert page.status_code == 422
    dialog = parse(page.text).root.by_id("new-record")
    assert dialog is not None
    assert "open" in dialog.attrs
    # with htmx, success is a redirect the page follows, with a flash on the record
    done = browser.client.post(
        "/programs",
        data=data | {"title": "On time", "ends_on": "2027-12-31"},
        headers=htmx(browser, "/programs"),
    )
    assert done.status_code == 200
    assert done.headers["HX-Redirect"].startswith("/programs/")
    assert "created" in str(parse(browser.page(done.headers["HX-Redirect"]).html).flashes())


def test_a_motion_is_never_offered_where_the_server_refuses_it(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    browser = signed_in(new_browser, acme)
    for kind in Kind:
        form = dialog_form(browser.page(f"/{KINDS[kind].plural}"))
        offered = "motion" in form.fields()
        refused = client.post(
            f"{API}/{KINDS[kind].plural}",
            json={"title": "Motion probe", "motion": "co-sell"},
            headers=acme.headers,
        )
        assert offered == (refused.status_code == 201), (kind, refused.status_code)


def _stage_select(form: Form) -> list[tuple[str, str]]:
    for control in form.element.iter("select"):
        if control.attrs.get("name") == "field.stage":
            return [(o.attrs.get("value", ""), o.text) for o in control.iter("option")]
    raise AssertionError("no stage select")


def test_stage_is_chosen_from_the_workflow_in_both_forms(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    browser = signed_in(new_browser, acme)
    free = dialog_form(browser.page("/opportunities"))
    assert any(
        c.tag == "input" and c.attrs.get("name") == "field.stage" for c in free.element.iter()
    ), "without a workflow the stage is free text"
    workflow(client, acme, template="standard_pipeline")
    form = dialog_form(browser.page("/opportunities"))
    options = _stage_select(form)
    assert options[0] == ("", "Not set")
    assert ("qualify", "Qualify") in options
    assert ("won", "Closed won") in options
    created = browser.client.post(
        "/opportunities", data=dict(form.fields()) | {"title": "Staged", "field.stage": "develop"}
    )
    assert created.status_code == 200
    page = parse(created.text)
    space = page.root.by_id("my-space")
    assert space is not None
    assert "Develop" in space.text
    assert "develop" not in space.text
    edit = browser.page(created.url.path + "?edit=space")
    space_form = next(f for f in edit.forms() if f.action.endswith("/space"))
    assert ("propose", "Propose") in _stage_select(space_form)
    assert space_form.fields()["field.stage"] == "develop"


def test_new_plan_from_the_program_page_is_preset_and_plans_show_goals(
    client: TestClient, new_browser: Callable[[], Browser], partner_program: tuple[Member, str]
) -> None:
    host, program_id = partner_program
    browser = signed_in(new_browser, host)
    panel_url = f"/programs/{program_id}/cosell"
    panel = parse(browser.get(panel_url, headers=htmx(browser, f"/programs/{program_id}")).text)
    button = next(b for b in panel.root.iter("button") if b.attrs.get("data-dialog-open"))
    assert button.attrs["data-dialog-open"] == "new-plan"
    form = dialog_form(panel, "new-plan")
    assert form.fields()["program_id"] == program_id
    created = browser.client.post(
        form.action,
        data=dict(form.fields())
        | {
            "title": "EMEA plan",
            "period_start": "2020-01-01",
            "period_end": "2020-12-31",
            "goal_metric": "opportunity_count",
            "goal_target": "4",
        },
        headers=htmx(browser, f"/programs/{program_id}"),
    )
    assert created.status_code == 200, parse(created.text).errors()
    after = parse(browser.get(panel_url, headers=htmx(browser, f"/programs/{program_id}")).text)
    card = next(a for a in after.root.iter("article") if "plan-card" in a.classes())
    text = card.text
    assert "EMEA plan" in text
    assert "1 Jan 2020" in text
    assert "31 Dec 2020" in text
    assert "Number of opportunities" in text
    assert "opportunity_count" not in text
    # the period is over and nothing was won: the goal and the plan are behind
    assert text.count("Behind") == 2
    assert "0.0%" in text


@pytest.fixture
def partner_program(client: TestClient) -> tuple[Member, str]:
    host = make_company(client, "Host")
    partner = make_company(client, "Partner")
    make_partnership(client, host, partner)
    program_id = record(client, host, "program", "Partner program")
    join(client, host, "program", program_id, partner)
    return host, program_id
