"""Settings, Data export in Chromium: an admin asks for an export, watches its progress, and
the tab refreshes itself (htmx polling) into a download link once the worker built it."""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from coterie.company_export.builder import build_export
from tests.browser.helpers import LiveServer, Visitor
from tests.company_export.helpers import pending_export
from tests.fixtures.builders import make_company

pytestmark = pytest.mark.xdist_group("browser")


@pytest.fixture
def visitor(browser: Browser, live_server: LiveServer, screenshots: Path) -> Iterator[Visitor]:
    opened = Visitor("data-export", browser, live_server.url, screenshots)
    yield opened
    opened.close()


def test_an_admin_watches_the_export_being_built_then_downloads_it(
    live_server: LiveServer, visitor: Visitor
) -> None:
    with httpx.Client(base_url=live_server.url, timeout=10) as api:
        client: Any = api
        acme = make_company(client, f"Export Acme {uuid.uuid4().hex[:6]}")
    visitor.sign_in(acme.email)
    page = visitor.go("/settings")
    visitor.click(page.get_by_role("link", name="Data export"))
    # an export the worker has not finished yet
    app = live_server.server.config.app
    export_id = pending_export(app, acme)
    page = visitor.go("/settings/data-export")
    button = page.get_by_role("button", name="Export all data")
    expect(page.locator("#export-list progress")).to_have_count(1)
    expect(page.locator("#export-list")).to_contain_text("Waiting to start")
    expect(button).to_be_disabled()
    visitor.shot("data-export-queued")

    build_export(app.state.settings, app.state.session_factory, uuid.UUID(export_id))

    # no reload: the tab polls until nothing is left to build
    expect(page.locator("#export-list")).to_contain_text("Ready", timeout=10_000)
    expect(page.locator("#export-list progress")).to_have_count(0)
    expect(button).to_be_enabled()
    visitor.shot("data-export-ready")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").click()
    saved = download.value.path()
    assert download.value.suggested_filename.endswith(".zip")
    names = zipfile.ZipFile(io.BytesIO(Path(saved).read_bytes())).namelist()
    assert "manifest.json" in names
    assert "records/opportunities.csv" in names

    # asking for another: the tests' queue builds it at once
    visitor.click(button)  # (the build runs inside this request: give a loaded machine time)
    expect(visitor.flash()).to_contain_text("Your export is being built", timeout=15_000)
    expect(page.locator("#export-list .badge-success")).to_have_count(2, timeout=15_000)
