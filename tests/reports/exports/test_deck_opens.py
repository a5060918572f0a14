"""The QBR deck opened in a presentation program: LibreOffice Impress (headless) converts the
PPTX the app builds to PDF, one page per slide (the title slide and one per dashboard panel).

python-pptx reading its own output back proves little about whether a presentation program
opens it; this is the check that one does. Skipped when `soffice` is missing locally; with
CI=true a missing `soffice` fails the test (`.ci/run` installs libreoffice-impress-nogui).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pptx import Presentation

from tests.fixtures.builders import Member, make_company, make_partnership
from tests.fixtures.cosell import fill, join, record, template
from tests.fixtures.databases import IN_CI

SOFFICE_TIMEOUT = 240  # seconds: a cold first start of LibreOffice on a busy CI machine
# a page object of the PDF; `/Type /Pages` (the page tree) is not one
PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![A-Za-z])")
BY_STAGE: dict[str, Any] = {
    "kind": "opportunity",
    "group_by": ["stage"],
    "measures": [{"op": "count"}, {"op": "sum", "field": "mine.amount"}],
}


def _soffice() -> str:
    found = os.environ.get("COTERIE_TEST_SOFFICE") or shutil.which("soffice")
    if found:
        return found
    reason = "LibreOffice (soffice) is not installed: apt-get install libreoffice-impress-nogui"
    if IN_CI:
        pytest.fail(f"CI=true but the deck cannot be opened: {reason}")
    pytest.skip(reason)


def _network(client: TestClient) -> tuple[Member, Member]:
    acme = make_company(client, "Deck Acme")
    globex = make_company(client, "Deck Globex")
    make_partnership(client, acme, globex)
    template(client, acme, "opportunity", amount="private")
    joint = record(client, acme, "opportunity", "Joint", amount=125000, stage="develop")
    join(client, acme, "opportunity", joint, globex)
    fill(client, globex, "opportunity", joint, amount=55, stage="propose")
    for title, amount, stage, close in (
        ("Renewal", 40000, "propose", "2026-08-14"),
        ("Expansion", 80000, "won", "2026-05-02"),
        ("Pilot", 15000, "won", "2026-02-20"),
    ):
        record(client, acme, "opportunity", title, amount=amount, stage=stage, close_date=close)
    return acme, globex


def _save(client: TestClient, who: Member, name: str, definition: dict[str, Any]) -> str:
    response = client.post(
        "/api/v1/reports",
        json={"name": name, "definition": definition, "chart_type": "bar"},
        headers=who.headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _deck(client: TestClient) -> bytes:
    """A dashboard with one panel of every chart type over the fixture's deals, as a deck."""
    acme, _ = _network(client)
    by_stage = _save(client, acme, "Pipeline by stage", BY_STAGE)
    by_partner = _save(
        client,
        acme,
        "Stage by partner",
        {"kind": "opportunity", "group_by": ["stage", "partner"], "measures": [{"op": "count"}]},
    )
    by_quarter = _save(
        client,
        acme,
        "Pipeline by quarter",
        {
            "kind": "opportunity",
            "group_by": ["close_quarter"],
            "measures": [{"op": "sum", "field": "mine.amount"}, {"op": "weighted_pipeline"}],
        },
    )
    panels = [
        {"report_id": by_stage, "chart_type": "bar"},
        {"report_id": by_stage, "chart_type": "pie"},
        {"report_id": by_partner, "chart_type": "stacked_bar"},
        {"report_id": by_stage, "chart_type": "funnel"},
        {"report_id": by_quarter, "chart_type": "line"},
        {"report_id": by_stage, "chart_type": "table"},
    ]
    created = client.post(
        "/api/v1/dashboards",
        json={"name": "Q3 partner review", "panels": panels},
        headers=acme.headers,
    )
    assert created.status_code == 201, created.text
    response = client.get(
        f"/api/v1/dashboards/{created.json()['id']}/deck.pptx", headers=acme.headers
    )
    assert response.status_code == 200, response.text
    content: bytes = response.content
    return content


def _pdf_pages(content: bytes, tmp_path: Path) -> int:
    """How many pages LibreOffice Impress makes of the deck (it fails the test if it cannot)."""
    soffice = _soffice()
    deck = tmp_path / "deck.pptx"
    deck.write_bytes(content)
    out = tmp_path / "out"
    command = [
        soffice,
        f"-env:UserInstallation={(tmp_path / 'lo-profile').as_uri()}",  # no shared profile
        "--headless",
        "--norestore",
        "--convert-to",
        "pdf",
        "--outdir",
        str(out),
        str(deck),
    ]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=SOFFICE_TIMEOUT,
        check=False,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    pdf = out / "deck.pdf"
    assert done.returncode == 0, f"soffice failed: {done.stdout}\n{done.stderr}"
    assert pdf.exists(), f"soffice wrote no PDF: {done.stdout}\n{done.stderr}"
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-"), data[:20]
    return len(PAGE_OBJECT.findall(data))


def test_libreoffice_impress_opens_the_qbr_deck_one_page_per_slide(
    client: TestClient, tmp_path: Path
) -> None:
    _soffice()
    content = _deck(client)
    slides = len(Presentation(io.BytesIO(content)).slides)
    assert slides == 1 + 6  # the title slide and one per panel
    assert _pdf_pages(content, tmp_path) == slides


def test_a_partner_deck_without_shared_records_opens_and_says_so(
    client: TestClient, tmp_path: Path
) -> None:
    _soffice()
    acme = make_company(client, "Quiet Acme")
    globex = make_company(client, "Quiet Globex")
    make_partnership(client, acme, globex)
    record(client, acme, "opportunity", "Not shared", amount=900, stage="develop")
    response = client.get(
        f"/api/v1/dashboards/defaults/partners/{globex.company_id}/deck.pptx",
        headers=acme.headers,
    )
    assert response.status_code == 200, response.text
    deck = Presentation(io.BytesIO(response.content))
    slides = list(deck.slides)
    assert len(slides) == 1 + 4  # the title slide and the four default panels
    for slide in slides[1:]:
        texts = [s.text_frame.text for s in slide.shapes if s.has_text_frame]
        assert not any(s.has_chart for s in slide.shapes), texts
        assert "No records shared with Quiet Globex yet." in texts, texts
    assert _pdf_pages(response.content, tmp_path) == len(slides)
