"""Files on a record page in Chromium: the owner uploads a file, sees it listed and downloads
it; a forbidden file is explained inside the panel; the partner on the record downloads it; a
company off the record gets 404; the owner deletes a file through the confirm dialog."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.browser.helpers import LiveServer, Visitor
from tests.fixtures.attachments import pdf_bytes
from tests.fixtures.builders import Member, make_company, make_partnership
from tests.fixtures.cosell import join, record

pytestmark = pytest.mark.xdist_group("browser")


@pytest.fixture
def visitor(browser: Browser, live_server: LiveServer, screenshots: Path) -> Iterator[Visitor]:
    opened = Visitor("attachments", browser, live_server.url, screenshots)
    yield opened
    opened.close()


@pytest.fixture
def partner_visitor(
    browser: Browser, live_server: LiveServer, screenshots: Path
) -> Iterator[Visitor]:
    opened = Visitor("attachments-partner", browser, live_server.url, screenshots)
    yield opened
    opened.close()


@pytest.fixture
def stranger(browser: Browser, live_server: LiveServer, screenshots: Path) -> Iterator[Visitor]:
    opened = Visitor("attachments-stranger", browser, live_server.url, screenshots)
    yield opened
    opened.close()


def _deal(live_server: LiveServer) -> tuple[Member, Member, Member, str]:
    suffix = uuid.uuid4().hex[:6]
    with httpx.Client(base_url=live_server.url, timeout=10) as api:
        client: Any = api
        acme = make_company(client, f"Files Acme {suffix}")
        globex = make_company(client, f"Files Globex {suffix}")
        initech = make_company(client, f"Files Initech {suffix}")
        make_partnership(client, acme, globex)
        deal = record(client, acme, "opportunity", "Northwind expansion", amount=250000)
        join(client, acme, "opportunity", deal, globex)
    return acme, globex, initech, deal


def test_files_are_uploaded_listed_downloaded_and_deleted_on_the_record_page(
    live_server: LiveServer, visitor: Visitor, partner_visitor: Visitor, stranger: Visitor
) -> None:
    acme, globex, initech, deal = _deal(live_server)
    visitor.sign_in(acme.email)
    page = visitor.go(f"/opportunities/{deal}")
    panel = page.locator("#files")
    expect(panel).to_contain_text("No files yet")
    expect(panel).to_contain_text("shared with every company on this opportunity")

    content = pdf_bytes("Northwind proposal")
    page.get_by_label("Attach a file").set_input_files(
        files=[{"name": "Northwind proposal.pdf", "mimeType": "application/pdf", "buffer": content}]
    )
    visitor.click(panel.get_by_role("button", name="Upload"))
    panel = page.locator("#files")
    expect(panel).to_contain_text("Northwind proposal.pdf was uploaded")
    row = panel.locator("tbody tr", has_text="Northwind proposal.pdf")
    expect(row).to_contain_text("PDF")
    expect(row).to_contain_text("1.")  # the size in KB
    expect(row).to_contain_text("Files Acme")
    page.get_by_label("Attach a file").set_input_files(
        files=[{"name": "attendees.csv", "mimeType": "text/csv", "buffer": b"name\nAda\n"}]
    )
    visitor.click(panel.get_by_role("button", name="Upload"))
    expect(page.locator("#files tbody tr")).to_have_count(2)
    visitor.shots("attachments-panel")

    with page.expect_download() as download:
        page.locator("#files").get_by_role("link", name="Northwind proposal.pdf").click()
    assert download.value.suggested_filename == "Northwind proposal.pdf"
    assert Path(download.value.path()).read_bytes() == content

    # a web page dressed up as a PDF: refused inside the panel, nothing listed
    page.get_by_label("Attach a file").set_input_files(
        files=[
            {
                "name": "invoice.pdf",
                "mimeType": "application/pdf",
                "buffer": b"<!DOCTYPE html><html><script>alert(1)</script></html>",
            }
        ]
    )
    visitor.click(page.locator("#files").get_by_role("button", name="Upload"))
    alert = page.locator("#files-error")
    expect(alert).to_contain_text("cannot be attached")
    expect(alert).to_contain_text("Nothing was stored")
    expect(page.locator("#files tbody tr")).to_have_count(2)
    visitor.shots("attachments-error")

    # the partner on the record sees and downloads the file; no delete button for the owner's
    partner_visitor.sign_in(globex.email)
    partner_page = partner_visitor.go(f"/opportunities/{deal}")
    partner_panel = partner_page.locator("#files")
    expect(partner_panel.locator("tbody tr")).to_have_count(2)
    expect(partner_panel.get_by_role("button", name="Delete")).to_have_count(0)
    with partner_page.expect_download() as partner_download:
        partner_panel.get_by_role("link", name="Northwind proposal.pdf").click()
    assert Path(partner_download.value.path()).read_bytes() == content
    href = partner_panel.get_by_role("link", name="attendees.csv").get_attribute("href")
    assert href is not None

    # the owner deletes one file through the confirm dialog
    panel = page.locator("#files")
    panel.get_by_role("button", name="Delete attendees.csv").click()
    dialog = page.get_by_role("dialog", name="Delete this file?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("removed for every company")
    visitor.click(dialog.get_by_role("button", name="Delete file"))
    expect(page.locator("#files")).to_contain_text("attendees.csv was deleted")
    expect(page.locator("#files tbody tr")).to_have_count(1)

    # a comment with a file: the file is listed under the comment, for the partner too
    page.locator("#f-body").fill("Signed order form attached")
    page.locator("#f-comment-file").set_input_files(
        files=[{"name": "Order form.pdf", "mimeType": "application/pdf", "buffer": content}]
    )
    visitor.click(page.locator("#activity").get_by_role("button", name="Post comment"))
    expect(page.locator("#activity .comment-files")).to_contain_text("Order form.pdf")
    partner_visitor.go(f"/opportunities/{deal}")
    partner_files = partner_visitor.page.locator("#activity .comment-files")
    expect(partner_files).to_contain_text("Order form.pdf")

    # gone for the partner too; and a company off the record gets 404 for the file still there
    assert partner_visitor.page.request.get(href).status == 404
    kept = page.locator("#files").get_by_role("link", name="Northwind proposal.pdf")
    kept_href = kept.get_attribute("href")
    assert kept_href is not None
    assert partner_visitor.page.request.get(kept_href).status == 200
    stranger.sign_in(initech.email)
    assert stranger.page.request.get(kept_href).status == 404
    assert stranger.page.goto(f"/opportunities/{deal}").status == 404  # type: ignore[union-attr]
