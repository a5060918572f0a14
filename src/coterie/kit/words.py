"""Small rules of English for text shown to people: possessives of names."""

from __future__ import annotations


def possessive(name: object) -> str:
    """`name` as a possessive: "Acme" -> "Acme's", "Orbit Analytics" -> "Orbit Analytics'".

    A name ending in "s" takes an apostrophe alone; an empty name stays empty.
    """
    text = str(name or "").strip()
    if not text:
        return ""
    return f"{text}'" if text[-1] in "sS" else f"{text}'s"
