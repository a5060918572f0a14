"""Possessives of company names, as every page and e-mail writes them."""

from __future__ import annotations

import pytest

from coterie.kit.words import possessive
from coterie.web.templating import templates


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Acme", "Acme's"),
        ("Orbit Analytics", "Orbit Analytics'"),
        ("Meridian Systems", "Meridian Systems'"),
        ("AWS", "AWS'"),
        ("  Globex ", "Globex's"),
        ("", ""),
        (None, ""),
    ],
)
def test_a_name_ending_in_s_takes_an_apostrophe_alone(name: str | None, expected: str) -> None:
    assert possessive(name) == expected


def test_templates_write_possessives_with_the_filter_and_escape_the_name() -> None:
    page = templates.env.from_string("{{ name | possessive }} space")
    assert page.render(name="Orbit Analytics") == "Orbit Analytics&#39; space"
    assert page.render(name="Acme") == "Acme&#39;s space"
    assert page.render(name="<b>Bolt</b>") == "&lt;b&gt;Bolt&lt;/b&gt;&#39;s space"
