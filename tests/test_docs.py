"""The documentation site: the README stays a front door, and the pages generated from the code
(configuration, demo network, benchmark results) really come from it.

`make test` also runs `mkdocs build --strict`, which fails on a broken link or anchor, a page
missing from the navigation, or a setting without a description.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from coterie.config import Settings
from coterie.demo.docs import demo_network_markdown

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "coterie_docs_hook", ROOT / "docs" / "hooks" / "generated.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Page:
    """What the hook reads of an MkDocs page: where its source sits."""

    def __init__(self, src_uri: str) -> None:
        self.file = type("F", (), {"src_uri": src_uri})()


def _render(hook: ModuleType, name: str) -> str:
    page: Any = _Page(name)
    result: str = hook.on_page_markdown((ROOT / "docs" / name).read_text(), page, None, None)
    return result


def test_the_readme_is_a_front_door() -> None:
    assert len((ROOT / "README.md").read_bytes()) <= 10 * 1024


def test_every_setting_is_described() -> None:
    undescribed = [name for name, field in Settings.model_fields.items() if not field.description]
    assert undescribed == []


def test_the_configuration_page_lists_every_variable(hook: ModuleType) -> None:
    page = _render(hook, "configuration.md")
    assert "<!-- coterie:" not in page
    for name, field in Settings.model_fields.items():
        row = next(line for line in page.splitlines() if f"`COTERIE_{name.upper()}`" in line)
        assert " ".join(str(field.description).split()) in row.replace("\\|", "|")


def test_the_demo_page_is_the_data_rendered(hook: ModuleType) -> None:
    assert _render(hook, "demo-network.md").strip() == demo_network_markdown().strip()


def test_the_benchmark_page_lists_every_result(hook: ModuleType) -> None:
    page = _render(hook, "benchmarks.md")
    results = sorted(p.name for p in (ROOT / "bench" / "results").glob("*.md"))
    assert results
    for name in results:
        assert f"(../bench-results/{name})" in page or f"(bench-results/{name})" in page
