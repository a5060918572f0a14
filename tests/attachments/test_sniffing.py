"""Allowed types are decided by content: signatures, the OOXML content list inside a zip, and
UTF-8 text free of markup; names only ever refuse. File names are cleaned for pages and headers."""

from __future__ import annotations

import io
import zipfile

import pytest

from coterie.attachments.filenames import content_disposition, sanitise
from coterie.attachments.sniffing import HEAD, sniff
from tests.fixtures.attachments import gif_bytes, jpeg_bytes, pdf_bytes, png_bytes, webp_bytes

DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
DOCM_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"


def ooxml(main_type: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            f'content-types"><Override PartName="/word/document.xml" ContentType="{main_type}"/>'
            "</Types>",
        )
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def verdict(content: bytes, name: str) -> str | None:
    return sniff(io.BytesIO(content), name).content_type


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (pdf_bytes, "application/pdf"),
        (png_bytes, "image/png"),
        (jpeg_bytes, "image/jpeg"),
        (gif_bytes, "image/gif"),
        (webp_bytes, "image/webp"),
    ],
)
def test_real_files_are_recognised_whatever_their_name(make: object, expected: str) -> None:
    content = make()  # type: ignore[operator]
    assert verdict(content, "scan") == expected
    assert verdict(content, "scan.txt") == expected  # a wrong extension does not change it


def test_a_word_document_is_told_from_a_macro_document_and_any_other_zip() -> None:
    word = verdict(ooxml(DOCX_MAIN), "brief.docx")
    assert word == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert verdict(ooxml(DOCM_MAIN), "brief.docx") is None
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("payload.exe", b"MZ")
    assert verdict(plain.getvalue(), "brief.docx") is None
    assert verdict(b"PK\x03\x04 not really a zip", "brief.docx") is None


def test_text_must_be_utf8_without_markup_and_named_as_text() -> None:
    assert verdict("Stadt,Umsatz\nMünchen,1\n".encode(), "a.csv") == "text/csv"
    assert verdict(b"plain words\n", "notes.md") == "text/plain"
    assert verdict("caf\xe9\n".encode("latin-1"), "a.csv") is None  # not UTF-8
    assert verdict(b"  <html><body>hi</body></html>", "a.txt") is None
    assert verdict(b"see <script src=x></script>", "a.txt") is None
    assert verdict(b"#!/usr/bin/env python\n", "a.txt") is None
    assert verdict(b"plain words\n", "notes.js") is None
    assert verdict(b"plain words\n", "notes") is None  # no text extension
    assert verdict(b"", "empty.txt") is None


def test_a_multibyte_character_cut_by_the_head_is_still_text() -> None:
    content = b"a" * (HEAD - 1) + "é".encode() + b"\n"
    assert verdict(content, "long.txt") == "text/plain"


def test_names_lose_paths_controls_and_excess_but_keep_their_extension() -> None:
    assert sanitise("C:\\Users\\me\\Desktop\\plan.pdf") == "plan.pdf"
    assert sanitise("../../.hidden") == "hidden"
    assert sanitise("a\u202egpj.exe") == "a gpj.exe"
    long = sanitise("x" * 300 + ".pdf")
    assert len(long) == 200
    assert long.endswith(".pdf")
    assert sanitise(" \x00 ") == ""


def test_the_download_header_carries_an_ascii_fallback_and_the_exact_name() -> None:
    header = content_disposition('Plan "final" 100%.pdf')
    assert header.startswith('attachment; filename="Plan _final_ 100_.pdf"; ')
    assert header.endswith("filename*=UTF-8''Plan%20%22final%22%20100%25.pdf")
    assert "filename*=UTF-8''%E2%82%AC.txt" in content_disposition("€.txt")
