"""The Export links of a record list: the same gate and masks as the API's export, for a
signed-in user, with the table's filter and sort, and "hide private fields" applied."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import quote

from fastapi.testclient import TestClient

from tests.fixtures.builders import make_company, make_partnership
from tests.fixtures.cosell import fill, join, record, template
from tests.web.conftest import Browser
from tests.web.test_network_pages import signed_in

CANARY = "4242424.42"


def test_the_list_page_exports_what_each_company_may_see(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    owner = make_company(client, "Exporter")
    partner = make_company(client, "Reader")
    make_partnership(client, owner, partner)
    template(client, owner, "opportunity", amount="private", stage="participants")
    shared = record(
        client, owner, "opportunity", "Shared deal", amount=float(CANARY), stage="propose"
    )
    join(client, owner, "opportunity", shared, partner)
    fill(client, partner, "opportunity", shared, stage="qualify")
    record(client, owner, "opportunity", "Other deal", amount=10, stage="develop")

    mine = signed_in(new_browser, owner)
    page = mine.get("/opportunities")
    assert "/opportunities/export?format=csv" in page.text
    csv_text = mine.get("/opportunities/export?format=csv").text
    assert "Shared deal" in csv_text
    assert CANARY in csv_text  # my own private amount, in my own export
    only = json.dumps({"field": "mine.stage", "op": "eq", "value": "propose"})
    filtered = mine.get(f"/opportunities/export?format=csv&filter={quote(only)}").text
    assert "Shared deal" in filtered
    assert "Other deal" not in filtered
    xlsx = mine.get("/opportunities/export?format=xlsx")
    assert xlsx.status_code == 200
    assert xlsx.content[:2] == b"PK"  # a zip: the XLSX container

    theirs = signed_in(new_browser, partner)
    partner_csv = theirs.get("/opportunities/export?format=csv").text
    assert "Shared deal" in partner_csv
    assert "Other deal" not in partner_csv
    assert CANARY not in partner_csv
    assert "4,242,424" not in partner_csv

    client.patch(
        "/api/v1/me/preferences", json={"hide_private_fields": True}, headers=owner.headers
    )
    hidden = mine.get("/opportunities/export?format=csv").text
    assert "Shared deal" in hidden
    assert CANARY not in hidden

    bad = mine.get("/opportunities/export?format=pdf")
    assert bad.status_code == 422
