"""Access rules and teams pages: the condition builder with its preview, enabling, deleting,
teams and their members, and who may do what."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.fixtures.builders import Member, make_colleague, make_company, make_partnership
from tests.fixtures.smtp import Inbox
from tests.web.conftest import Browser
from tests.web.html import parse
from tests.web.test_network_pages import signed_in
from tests.web.test_record_pages import api_opportunity

RULES = "/settings/rules"


def rules(client: TestClient, admin: Member) -> list[dict[str, Any]]:
    response = client.get("/api/v1/rules", headers=admin.headers)
    assert response.status_code == 200, response.text
    return list(response.json())


def test_an_auto_share_rule_is_previewed_then_saved(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    globex = make_company(client, "Globex")
    make_partnership(client, acme, globex)
    api_opportunity(client, acme, "Big deal", amount=5000)
    api_opportunity(client, acme, "Small deal", amount=10)
    admin = signed_in(new_browser, acme)
    page = admin.page(RULES)
    assert "No rules for opportunities" in page.text
    rule = {
        "name": "Big deals to Globex",
        "type": "auto_share",
        "cond-0-field": "amount",
        "cond-0-op": "gte",
        "cond-0-value": "1,000",
        "companies": [globex.company_id],
    }

    # "Save" before any preview shows the preview instead
    first = admin.submit(RULES, RULES, rule | {"action": "save"})
    assert first.status_code == 200
    previewed = parse(first.text)
    count = previewed.root.by_id("preview")
    assert count is not None
    assert "matches 1 opportunity now" in count.text
    assert rules(client, acme) == []

    # a changed condition after the preview needs a new preview
    fields = dict(previewed.form(RULES).fields())
    changed = admin.client.post(
        RULES, data=fields | {"cond-0-value": "1", "action": "save"}, follow_redirects=True
    )
    assert "matches 2 opportunities now" in parse(changed.text).text
    assert rules(client, acme) == []

    saved = admin.client.post(RULES, data=fields | {"action": "save"}, follow_redirects=True)
    assert saved.url.path == RULES
    page = parse(saved.text)
    assert "Rule “Big deals to Globex” saved. It applies at once." in page.flashes()
    listed = page.root.find("table")
    assert listed is not None
    assert "Amount is at least 1000" in listed.text
    assert "Globex" in listed.text
    assert "On" in listed.text
    created = rules(client, acme)
    assert len(created) == 1
    assert created[0]["condition"] == {"all": [{"field": "amount", "op": "gte", "value": 1000}]}

    partner = signed_in(new_browser, globex)
    box = partner.page("/opportunities").root.by_id("invitations")
    assert box is not None
    assert "Big deal" in box.text
    assert "Small deal" not in box.text

    rule_id = created[0]["id"]
    disabled = admin.submit(RULES, f"{RULES}/{rule_id}/toggle")
    assert "Rule “Big deals to Globex” disabled." in parse(disabled.text).flashes()
    assert rules(client, acme)[0]["enabled"] is False
    enabled = admin.submit(RULES, f"{RULES}/{rule_id}/toggle")
    assert "enabled" in " ".join(parse(enabled.text).flashes())
    deleted = admin.submit(RULES, f"{RULES}/{rule_id}/delete")
    assert "Rule “Big deals to Globex” deleted." in parse(deleted.text).flashes()
    assert rules(client, acme) == []


def test_rule_form_shows_mistakes_next_to_the_fields(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    admin = signed_in(new_browser, acme)

    def errors(data: dict[str, Any]) -> dict[str, str]:
        response = admin.submit(RULES, RULES, data | {"action": "preview"})
        assert response.status_code == 422, response.text[:1000]
        return parse(response.text).errors()

    base = {"name": "Rule", "type": "visibility", "users": [acme.user_id]}
    assert errors(base | {"cond-0-field": "amount", "cond-0-value": "lots"}) == {
        "cond-0-value": "Enter a number.",
        "form": "Please correct the field marked below.",
    }
    found = errors(base | {"cond-1-field": "title", "cond-1-op": "gte", "cond-1-value": "x"})
    assert "does not apply" in found["cond-1-op"]
    found = errors(base | {"cond-0-field": "region", "cond-0-op": "eq", "cond-0-value": "Mars"})
    assert "Must be one of the options" in found["cond-0-value"]
    found = errors({"name": "", "type": "visibility", "users": [acme.user_id]})
    assert found["name"] == "This field is required."
    # (the shared checkboxes macro puts no id on its fieldset: errors are keyed by its id)
    found = errors({"name": "Nobody", "type": "visibility"})
    assert "at least one user or team" in found["f-users"]
    found = errors({"name": "Nobody", "type": "auto_share"})
    assert "partner company" in found["f-companies"]
    assert rules(client, acme) == []

    more = admin.submit(RULES, RULES, {"action": "add_row"})
    assert "cond-3-field" in more.text


def test_a_visibility_rule_for_a_team_built_with_the_forms(
    client: TestClient, new_browser: Callable[[], Browser], inbox: Inbox
) -> None:
    acme = make_company(client, "Acme")
    rep = make_colleague(client, acme, "member", inbox=inbox)
    api_opportunity(client, acme, "Berlin", region="emea")
    api_opportunity(client, acme, "Tokyo", region="apac")
    admin = signed_in(new_browser, acme)

    created = admin.submit(
        "/settings/teams", "/settings/teams", {"name": "EMEA sellers", "members": [rep.user_id]}
    )
    assert "Team “EMEA sellers” created." in parse(created.text).flashes()
    duplicate = admin.submit("/settings/teams", "/settings/teams", {"name": "EMEA sellers"})
    assert duplicate.status_code == 409
    assert "already a team" in parse(duplicate.text).errors()["name"]
    team_id = client.get("/api/v1/teams", headers=acme.headers).json()[0]["id"]

    rule = {
        "name": "EMEA team sees EMEA",
        "type": "visibility",
        "cond-0-field": "region",
        "cond-0-op": "eq",
        "cond-0-value": "EMEA",  # the label; the page finds the option
        "teams": [team_id],
    }
    previewed = admin.submit(RULES, RULES, rule | {"action": "preview"})
    assert "matches 1 opportunity now" in parse(previewed.text).text
    fields = dict(parse(previewed.text).form(RULES).fields())
    admin.client.post(RULES, data=fields | {"action": "save"})
    listed = admin.page(RULES).root.find("table")
    assert listed is not None
    assert "Region is EMEA" in listed.text
    assert "team EMEA sellers" in listed.text

    seller = signed_in(new_browser, rep)
    table = seller.page("/opportunities").root.find("table")
    assert table is not None
    assert "Berlin" in table.text
    assert "Tokyo" not in table.text

    # leaving the team takes the record away at once
    emptied = admin.submit("/settings/teams", f"/settings/teams/{team_id}", {"members": []})
    assert "Access follows at once" in " ".join(parse(emptied.text).flashes())
    assert seller.page("/opportunities").root.find("table") is None
    gone = admin.submit("/settings/teams", f"/settings/teams/{team_id}/delete")
    assert "Team “EMEA sellers” deleted." in parse(gone.text).flashes()


def test_managers_read_rules_members_do_not(
    client: TestClient, new_browser: Callable[[], Browser], inbox: Inbox
) -> None:
    acme = make_company(client, "Acme")
    manager = make_colleague(client, acme, "manager", inbox=inbox)
    member = make_colleague(client, acme, "member", inbox=inbox)
    client.post(
        "/api/v1/rules",
        json={
            "kind": "opportunity",
            "name": "Managers see all",
            "type": "visibility",
            "condition": {},
            "grantees": {"users": [manager.user_id]},
        },
        headers=acme.headers,
    )
    reader = signed_in(new_browser, manager)
    page = reader.page(RULES)
    assert "Managers see all" in page.text
    assert not page.forms(RULES)
    token = page.form("/logout").fields()["csrf_token"]
    refused = reader.client.post(
        f"{RULES}/{rules(client, acme)[0]['id']}/delete", data={"csrf_token": token, "version": "1"}
    )
    assert any("admin" in f for f in parse(refused.text).flashes())
    assert len(rules(client, acme)) == 1

    outsider = signed_in(new_browser, member)
    page = outsider.page(RULES)
    assert "Only managers and admins of Acme can see access rules." in page.text
    assert "Managers see all" not in page.text
    teams = outsider.page("/settings/teams")
    assert "Only admins of Acme can create and change teams." in teams.text
    assert not teams.forms("/settings/teams")
