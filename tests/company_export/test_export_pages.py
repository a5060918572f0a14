"""The "Data export" settings tab: admins ask for an export, watch it (the list polls while one
is built), download it from the page or the e-mail; others do not see the tab."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.company_export.helpers import build, pending_export
from tests.fixtures.builders import make_colleague, make_company
from tests.fixtures.smtp import Inbox, link_in, text_of
from tests.web.conftest import Browser
from tests.web.html import parse
from tests.web.test_network_pages import signed_in

PAGE = "/settings/data-export"


def test_an_admin_exports_from_the_settings_page_and_downloads_it(
    client: TestClient, app: FastAPI, inbox: Inbox, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    browser = signed_in(new_browser, acme)
    nav = browser.page("/settings/company").root.find("nav", **{"aria-label": "Settings"})
    assert nav is not None
    assert "Data export" in [a.text for a in nav.iter("a")]
    assert "No exports yet." in browser.page(PAGE).main_text

    asked = browser.submit(PAGE, PAGE)  # the tests' queue builds it as the request commits
    page = parse(asked.text)
    assert asked.url.path == PAGE
    assert any("Your export is being built" in text for text in page.flashes())
    export_id = _only_export_id(client, acme.headers)

    # one the worker has not finished: the tab shows its progress and refreshes itself
    pending = pending_export(app, acme)
    page = browser.page(PAGE)
    body = page.root.by_id("data-export")
    assert body is not None
    assert body.attrs["hx-get"] == f"{PAGE}/list"
    assert "every 2s" in body.attrs["hx-trigger"]
    assert "Waiting to start" in body.text
    button = page.form(PAGE).element.find("button")
    assert button is not None
    assert "disabled" in button.attrs

    build(app, pending)
    fragment = parse(browser.get(f"{PAGE}/list").text).root.by_id("data-export")
    assert fragment is not None
    assert "hx-get" not in fragment.attrs  # nothing left to watch: polling stops
    button = parse(browser.get(f"{PAGE}/list").text).form(PAGE).element.find("button")
    assert button is not None
    assert "disabled" not in button.attrs  # and another export may be asked for
    assert [b.text for b in fragment.iter("span") if "badge" in b.classes()] == ["Ready", "Ready"]
    download = [a for a in fragment.iter("a") if "Download" in a.text][-1]  # the first one

    got = browser.get(download.attrs["href"])
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/zip"
    assert "attachment" in got.headers["content-disposition"]
    assert "manifest.json" in zipfile.ZipFile(io.BytesIO(got.content)).namelist()
    # the e-mailed link is the page's
    inbox.wait_for(acme.email)
    path = f"{PAGE}/{export_id}/download"
    mails = [m for m in inbox.to(acme.email) if path in text_of(m)]
    assert len(mails) == 1
    mailed = link_in(mails[0], path)
    assert browser.get(mailed).content == got.content


def test_a_non_admin_sees_no_data_export_tab_and_cannot_open_it(
    client: TestClient, inbox: Inbox, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    manager = make_colleague(client, acme, "manager", inbox=inbox)
    browser = signed_in(new_browser, manager)
    assert "Data export" not in browser.page("/settings/company").text
    refused = browser.page(PAGE, status=403)
    assert "Only a company admin" in refused.main_text
    # a form sent anyway (a CSRF token from another settings form) is refused too
    token = browser.page("/settings/tokens").form("/settings/tokens").fields()["csrf_token"]
    posted = browser.client.post(PAGE, data={"csrf_token": token})
    assert "Only a company admin" in " ".join(parse(posted.text).flashes()), posted.text[:500]
    assert _only_export_id(client, acme.headers, expected=0) == ""


def _only_export_id(client: TestClient, headers: dict[str, str], expected: int = 1) -> str:
    items = client.get("/api/v1/company-exports", headers=headers).json()["items"]
    assert len(items) == expected
    return str(items[0]["id"]) if items else ""
