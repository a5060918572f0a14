"""File names as people gave them, made safe to keep and to send back.

A stored name is only a label: the bytes live under a key Coterie generated. Still the name is
cleaned (no directories, no control or bidirectional-override characters, no leading dots, at
most 200 characters with the extension kept) because it is shown on pages and sent back in
`Content-Disposition` (RFC 6266, with the UTF-8 form of RFC 5987 / 8187 and an ASCII fallback).
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

MAX_LENGTH = 200
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def sanitise(raw: str) -> str:
    """A safe display name for the uploaded `raw` name ("" when nothing usable is left)."""
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(" " if unicodedata.category(ch) in _INVISIBLE else ch for ch in name)
    name = " ".join(name.split()).strip(". ")
    if len(name) > MAX_LENGTH:
        dot = name.rfind(".")
        extension = name[dot:] if dot > 0 and len(name) - dot <= 10 else ""
        name = name[: MAX_LENGTH - len(extension)].rstrip(". ") + extension
    return name


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the exact name as UTF-8 (`filename*`)."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\%' else "_" for ch in filename)
    encoded = quote(filename, safe="")
    return f"attachment; filename=\"{fallback or 'file'}\"; filename*=UTF-8''{encoded}"
