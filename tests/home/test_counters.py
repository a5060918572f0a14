"""After an answer to a partnership (htmx), the response carries every partnership counter a
page shows, fresh, so "My partners" and "invitations waiting" never stay stale."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.fixtures.builders import make_company, make_partnership
from tests.web.conftest import Browser


def test_accepting_with_htmx_sends_the_fresh_counters(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    me = make_company(client, "Counting Co")
    make_partnership(client, me, make_company(client, "Old Partner"))
    first = make_partnership(client, make_company(client, "First Suitor"), me, accept=False)
    make_partnership(client, make_company(client, "Second Suitor"), me, accept=False)
    make_partnership(client, me, make_company(client, "Asked Co"), accept=False)
    browser = new_browser()
    browser.login(me.email)
    home = browser.page("/")
    assert home.root.by_id("partners-count").text == "1"  # type: ignore[union-attr]
    assert home.root.by_id("incoming-count").text == "2"  # type: ignore[union-attr]
    token = home.form(f"/network/partnerships/{first}/accept").fields()["csrf_token"]

    accepted = browser.client.post(
        f"/network/partnerships/{first}/accept",
        headers={"HX-Request": "true", "X-CSRF-Token": str(token)},
    )
    assert accepted.status_code == 200, accepted.text
    assert "You are now partners with First Suitor." in accepted.text
    assert json.loads(accepted.headers["HX-Trigger"]) == {
        "partnership-counts": {
            "partners-count": 2,
            "incoming-count": 1,
            "outgoing-count": 1,
            "history-count": 0,
        }
    }
    again = browser.page("/")  # and the page agrees when loaded anew
    assert again.root.by_id("partners-count").text == "2"  # type: ignore[union-attr]
    assert again.root.by_id("incoming-count").text == "1"  # type: ignore[union-attr]
