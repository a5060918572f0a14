"""Small rules of English for text shown to people: possessives of names, sizes of files."""

from __future__ import annotations


def possessive(name: object) -> str:
    """`name` as a possessive: "Acme" -> "Acme's", "Orbit Analytics" -> "Orbit Analytics'".

    A name ending in "s" takes an apostrophe alone; an empty name stays empty.
    """
    text = str(name or "").strip()
    if not text:
        return ""
    return f"{text}'" if text[-1] in "sS" else f"{text}'s"


def file_size(size: int) -> str:
    """A size in bytes as people read sizes of files, in decimal units: 1536 -> "1.5 KB"."""
    if size < 1000:
        return f"{size} byte{'' if size == 1 else 's'}"
    value = float(size) / 1000
    units = ["KB", "MB", "GB", "TB"]
    unit = units.pop(0)
    while value >= 999.95 and units:
        value /= 1000
        unit = units.pop(0)
    shown = f"{value:.1f}".removesuffix(".0") if value < 100 else f"{value:.0f}"
    return f"{shown} {unit}"
