"""The workflow designer's pages driven like a browser: a workflow designed from nothing (no
JSON anywhere), refused inline and saved not at all when two stages share a name, refused as
stale when someone saved meanwhile, exported as JSON and read back from that file, shown
read-only to a member, and a program workflow approved by a partner named in the select."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.fixtures.builders import Member, make_colleague, make_company, make_partnership
from tests.fixtures.cosell import API
from tests.fixtures.workflows import join, record, workflow
from tests.web.conftest import Browser
from tests.web.html import Page, parse
from tests.web.test_network_pages import signed_in

NEW = "/settings/workflows/new"


def _stages(*rows: tuple[str, str], **extra: str) -> dict[str, str]:
    data: dict[str, str] = {}
    for i, (label, category) in enumerate(rows):
        data |= {
            f"stages-{i}-uid": f"new-{i}",
            f"stages-{i}-key": "",
            f"stages-{i}-label": label,
            f"stages-{i}-category": category,
        }
    return data | extra


def _workflows(client: TestClient, who: Member) -> list[dict[str, Any]]:
    response = client.get(f"{API}/workflows", headers=who.headers)
    assert response.status_code == 200, response.text
    return list(response.json())


def _inputs(page: Page, k: str) -> list[str | None]:
    """The values of the stage rows' inputs of one kind (label, key), in order."""
    stages = page.root.find("ol", class_="wd-stages")
    assert stages is not None
    return [i.attrs.get("value") for i in stages.find_all("input", **{"data-k": k})]


def _options(page: Page, name: str) -> dict[str, str]:
    select = page.root.find("select", name=name)
    assert select is not None, name
    return {o.attrs.get("value", ""): o.text for o in select.iter("option")}


def test_a_workflow_is_designed_from_nothing_saved_and_reopened(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Designer Acme")
    browser = signed_in(new_browser, acme)
    empty = browser.page(f"{NEW}?kind=opportunity")
    assert "New opportunity workflow" in empty.h1
    assert empty.root.find("textarea") is None
    assert "No stages yet" in empty.main_text
    data = _stages(
        ("Discover", "open"),
        ("Proposal sent", "open"),
        ("Signed", "won"),
        ("Lost", "lost"),
        name="Acme deals",
        **{
            "stages-1-criteria-0-field": "mine.amount",
            "stages-1-steps-0-title": "Send the proposal",
            "stages-1-steps-0-owner": "record_owner",
            "stages-1-steps-0-due": "5",
            "stages-2-approvals-0-company": "host",
            "stages-2-approvals-0-role": "admin",
        },
    )
    created = browser.submit(f"{NEW}?kind=opportunity", NEW, data)
    assert created.status_code == 200, created.text[:2000]
    assert "Workflow “Acme deals” created." in " ".join(parse(created.text).flashes())
    [saved] = _workflows(client, acme)
    assert saved["kind"] == "opportunity"
    assert [(s["key"], s["name"], s["category"]) for s in saved["stages"]] == [
        ("discover", "Discover", "open"),
        ("proposal_sent", "Proposal sent", "open"),
        ("signed", "Signed", "won"),
        ("lost", "Lost", "lost"),
    ]
    assert saved["stages"][1]["required_fields"] == ["mine.amount"]
    assert saved["stages"][1]["steps"] == [
        {"title": "Send the proposal", "owner": "record_owner", "due_in_days": 5}
    ]
    into_signed = [t for t in saved["transitions"] if t["to"] == "signed"]
    assert into_signed
    assert all(t["approvals"] == [{"company": "host", "role": "admin"}] for t in into_signed)

    reopened = parse(created.text)
    assert reopened.h1 == ["Acme deals"]
    labels = _inputs(reopened, "label")
    assert labels == ["Discover", "Proposal sent", "Signed", "Lost"]
    criterion = reopened.root.find("select", name="stages-1-criteria-0-field")
    assert criterion is not None
    chosen = [o.text for o in criterion.iter("option") if "selected" in o.attrs]
    assert chosen == ["Amount"]  # the template's label, never the key
    companies = _options(reopened, "stages-2-approvals-0-company")
    assert companies == {"host": "Designer Acme (your company)"}

    renamed = browser.submit(
        created.url.path, created.url.path, {"stages-0-label": "Qualify", "name": "Acme deals"}
    )
    assert renamed.status_code == 200
    [after] = _workflows(client, acme)
    assert after["stages"][0] == saved["stages"][0] | {"name": "Qualify"}  # the key stays


def test_two_stages_with_one_name_are_refused_inline_and_nothing_is_saved(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Designer Twins")
    browser = signed_in(new_browser, acme)
    data = _stages(("Open", "open"), ("open", "won"), ("Lost", "lost"), name="Twins")
    refused = browser.submit(f"{NEW}?kind=opportunity", NEW, data)
    assert refused.status_code == 422
    page = parse(refused.text)
    assert page.errors()["stages-1-label"] == "Stage 1 is already called “Open”."
    labels = _inputs(page, "label")
    assert labels == ["Open", "open", "Lost"]  # what was typed stays on the page
    assert _workflows(client, acme) == []

    nameless = browser.submit(f"{NEW}?kind=opportunity", NEW, _stages(("Open", "open")))
    errors = parse(nameless.text).errors()
    assert errors["name"] == "Give the workflow a name."
    assert _workflows(client, acme) == []


def test_a_second_active_workflow_is_refused_next_to_active(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Designer Busy")
    workflow(client, acme, template="standard_pipeline")
    browser = signed_in(new_browser, acme)
    data = _stages(("Open", "open"), ("Won", "won"), ("Lost", "lost"), name="Second")
    refused = browser.submit(f"{NEW}?kind=opportunity", NEW, data)
    assert refused.status_code == 422
    assert "untick Active" in parse(refused.text).errors()["active"]
    assert len(_workflows(client, acme)) == 1
    draft = browser.submit(f"{NEW}?kind=opportunity", NEW, data | {"active": ""})
    assert draft.status_code == 200
    assert len(_workflows(client, acme)) == 2


def test_a_stale_page_is_refused_export_and_import(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Designer Stale")
    wf = workflow(client, acme, template="standard_pipeline")
    url = f"/settings/workflows/{wf['id']}"
    browser = signed_in(new_browser, acme)
    opened = browser.page(url)
    fields = dict(opened.form(url).fields())
    put = client.put(
        f"{API}/workflows/{wf['id']}",
        json={"name": "Theirs", "stages": wf["stages"], "transitions": []},
        headers=acme.headers | {"If-Match": '"1"'},
    )
    assert put.status_code == 200, put.text
    stale = browser.client.post(url, data=fields | {"name": "Mine"})
    assert stale.status_code == 409
    assert "Someone saved this workflow since you opened it" in parse(stale.text).errors()["form"]
    assert (
        client.get(f"{API}/workflows/{wf['id']}", headers=acme.headers).json()["name"] == "Theirs"
    )

    exported = browser.get(f"{url}/export.json")
    assert exported.status_code == 200
    assert 'filename="theirs.json"' in exported.headers["content-disposition"]
    body = json.loads(exported.text)
    assert body["name"] == "Theirs"
    assert [s["name"] for s in body["stages"]] == [s["name"] for s in wf["stages"]]

    form = parse(browser.get(f"{NEW}?kind=opportunity").text).form(f"{NEW}/import").fields()
    imported = browser.client.post(
        f"{NEW}/import",
        data=dict(form),
        files={"file": ("theirs.json", exported.content, "application/json")},
    )
    assert imported.status_code == 200
    page = parse(imported.text)
    labels = _inputs(page, "label")
    assert labels == [s["name"] for s in wf["stages"]]
    keys = _inputs(page, "key")
    assert set(keys) == {""}  # a new workflow: keys come from the labels again
    assert len(_workflows(client, acme)) == 1  # nothing saved yet

    garbage = browser.client.post(
        f"{NEW}/import", data=dict(form), files={"file": ("x.json", b"[1, 2", "application/json")}
    )
    assert garbage.status_code == 422
    assert "not a workflow exported from Coterie" in parse(garbage.text).errors()["file"]


def test_a_member_reads_the_workflow_without_a_form(
    client: TestClient, new_browser: Callable[[], Browser], inbox: Any
) -> None:
    acme = make_company(client, "Designer Readers")
    wf = workflow(client, acme, template="standard_pipeline")
    member = make_colleague(client, acme, "member", inbox=inbox)
    page = signed_in(new_browser, member).page(f"/settings/workflows/{wf['id']}")
    assert page.forms(f"/settings/workflows/{wf['id']}") == []
    assert "Qualify" in page.main_text
    assert "Amount" in page.main_text  # the criterion's label, not mine.amount
    assert "mine.amount" not in page.main_text


def test_a_program_workflow_is_approved_by_a_partner_chosen_by_name(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    host = make_company(client, "Designer Host")
    partner = make_company(client, "Designer Partner")
    make_partnership(client, host, partner)
    program = record(client, host, "program", "Cloud program")
    join(client, host, "program", program, partner)
    browser = signed_in(new_browser, host)
    url = f"{NEW}?kind=opportunity&program_id={program}"
    empty = browser.page(url)
    assert "Program workflow for Cloud program" in empty.main_text
    template = empty.root.find("template", id="wd-approvals-template")
    assert template is not None
    data = _stages(
        ("Joint review", "open"),
        ("Closed", "won"),
        ("Dropped", "lost"),
        name="Cloud joint stages",
        program_id=program,
        **{
            "stages-1-approvals-0-company": partner.company_id,
            "stages-1-approvals-0-role": "manager",
        },
    )
    created = browser.submit(url, NEW, data)
    assert created.status_code == 200, created.text[:2000]
    [saved] = _workflows(client, host)
    assert saved["program_id"] == program
    into_closed = [t for t in saved["transitions"] if t["to"] == "closed"]
    assert into_closed
    assert into_closed[0]["approvals"] == [{"company": partner.company_id, "role": "manager"}]
    companies = _options(parse(created.text), "stages-1-approvals-0-company")
    assert companies[partner.company_id] == "Designer Partner"
