"""Which files may be attached, decided by their content, never by the name or declared type.

Allowed: PDF, PNG, JPEG, GIF, WEBP (recognised by their signatures with `puremagic`); Word,
Excel and PowerPoint documents (.docx, .xlsx, .pptx: a zip whose `[Content_Types].xml` declares
the main part of that kind; macro-enabled variants declare another and are refused); and
UTF-8 plain text or CSV named `.txt`, `.csv`, `.tsv` or `.md`. Refused: everything else,
HTML, SVG and XML above all (they could run script if a browser ever rendered them), scripts
and executables, and any file whose name ends in such an extension whatever its content.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from typing import IO

import puremagic

HEAD = 8192
_MAX_CONTENT_TYPES_XML = 1_000_000

SIGNATURE_TYPES = {
    "application/pdf": "PDF",
    "image/png": "PNG image",
    "image/jpeg": "JPEG image",
    "image/gif": "GIF image",
    "image/webp": "WEBP image",
}
OFFICE_TYPES = {
    # the content type of the main part in [Content_Types].xml -> the file's own type
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    ),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    ),
}
TEXT_EXTENSIONS = {
    ".txt": "text/plain",
    ".md": "text/plain",
    ".csv": "text/csv",
    ".tsv": "text/csv",
}
REFUSED_EXTENSIONS = frozenset(
    {
        ".html",
        ".htm",
        ".xhtml",
        ".shtml",
        ".svg",
        ".svgz",
        ".xml",
        ".xsl",
        ".js",
        ".mjs",
        ".jsx",
        ".ts",
        ".vbs",
        ".vbe",
        ".wsf",
        ".wsh",
        ".hta",
        ".exe",
        ".dll",
        ".com",
        ".scr",
        ".msi",
        ".msp",
        ".bat",
        ".cmd",
        ".ps1",
        ".psm1",
        ".sh",
        ".bash",
        ".zsh",
        ".py",
        ".pl",
        ".rb",
        ".php",
        ".jar",
        ".app",
        ".apk",
        ".deb",
        ".rpm",
        ".dmg",
        ".lnk",
        ".reg",
        ".cpl",
        ".docm",
        ".xlsm",
        ".pptm",
        ".swf",
    }
)
_MARKUP = (b"<!doctype", b"<html", b"<svg", b"<?xml", b"<script", b"<head", b"<body", b"<iframe")
ALLOWED_IN_WORDS = "PDF, PNG, JPEG, GIF, WEBP, Word, Excel, PowerPoint, plain text or CSV"


@dataclass(frozen=True)
class Sniffed:
    """The verdict: `content_type` when allowed, else `refusal` says why."""

    content_type: str | None
    refusal: str | None = None


def _refused(why: str) -> Sniffed:
    return Sniffed(None, why)


def extension_of(filename: str) -> str:
    dot = filename.rfind(".")
    return filename[dot:].lower() if dot > 0 else ""


def sniff(stream: IO[bytes], filename: str) -> Sniffed:
    """The type of the file in `stream` (seekable; left at its start) if it may be attached."""
    extension = extension_of(filename)
    if extension in REFUSED_EXTENSIONS:
        return _refused(f"files ending in {extension} cannot be attached")
    stream.seek(0)
    head = stream.read(HEAD)
    stream.seek(0)
    if not head:
        return _refused("the file is empty")
    if head.startswith(b"PK\x03\x04"):
        return _office(stream)
    best = _best_signature(head)
    if best in SIGNATURE_TYPES:
        return Sniffed(best)
    return _text(head, extension)


def _best_signature(head: bytes) -> str | None:
    try:
        matches = puremagic.magic_string(head)
    except puremagic.PureError:
        return None
    return str(matches[0].mime_type) if matches else None


def _office(stream: IO[bytes]) -> Sniffed:
    try:
        with zipfile.ZipFile(stream) as archive:
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > _MAX_CONTENT_TYPES_XML:
                return _refused("the document's content list is too large to check")
            declared = archive.read(info)
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, EOFError):
        return _refused(f"only {ALLOWED_IN_WORDS} files can be attached (this is another zip)")
    finally:
        stream.seek(0)
    for main_part, content_type in OFFICE_TYPES.items():
        if f'ContentType="{main_part}"'.encode() in declared:
            return Sniffed(content_type)
    return _refused(f"only {ALLOWED_IN_WORDS} files can be attached (this is another zip)")


def _text(head: bytes, extension: str) -> Sniffed:
    if b"\x00" in head or not _utf8(head):
        return _refused(f"only {ALLOWED_IN_WORDS} files can be attached")
    opening = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if opening.startswith(b"#!") or any(marker in head.lower() for marker in _MARKUP):
        return _refused("web pages, SVG, XML and scripts cannot be attached")
    if extension not in TEXT_EXTENSIONS:
        return _refused("a plain text file must be named .txt, .csv, .tsv or .md")
    return Sniffed(TEXT_EXTENSIONS[extension])


def _utf8(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # the head may end inside a multi-byte character: only a cut there is forgiven
        return error.start >= len(head) - 3 and len(head) == HEAD
    return True


_DOCX, _XLSX, _PPTX = OFFICE_TYPES.values()
_TYPE_WORDS = {
    **SIGNATURE_TYPES,
    _DOCX: "Word document",
    _XLSX: "Excel workbook",
    _PPTX: "PowerPoint presentation",
    "text/plain": "Text",
    "text/csv": "CSV",
}


def readable_type(content_type: str) -> str:
    """What a person calls the type: "PDF", "Word document"..."""
    return _TYPE_WORDS.get(content_type, "File")
