"""The accessibility check of a page: axe-core (the npm registry's `axe-core`, a test-only
tool installed by `make assets` into node_modules) injected into the page and run there.

`serious_violations(page)` lists the rules that fail at impact "serious" or "critical", each
with the first few offending elements, so an assertion message says what to fix."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


@cache
def _source() -> str:
    if not AXE.exists():
        raise AssertionError(f"{AXE} is missing: run `make assets` (npm ci)")
    return AXE.read_text(encoding="utf-8")


def serious_violations(page: Page) -> list[str]:
    """Run axe on the page as it is now; one line per serious or critical violation."""
    # evaluated through the DevTools protocol, which the page's CSP does not govern
    page.evaluate(_source() + "\n;0")
    result: dict[str, Any] = page.evaluate(
        """async () => await window.axe.run(document, {
            resultTypes: ["violations"],
            runOnly: {
                type: "tag",
                values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
            }
        })"""
    )
    lines = []
    for violation in result["violations"]:
        if violation.get("impact") not in BLOCKING:
            continue
        targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:3])
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    return lines
