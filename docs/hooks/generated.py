"""MkDocs hook: the pages generated from the code, so that the site cannot drift from it.

- `<!-- coterie:settings -->` becomes the table of every `COTERIE_*` variable, read from
  `coterie.config.Settings` (name, type, default, description). A setting without a
  description fails the build.
- `<!-- coterie:demo-network -->` becomes the demo network, rendered by
  `coterie.demo.docs.demo_network_markdown()` from the demo data itself.
- `<!-- coterie:bench-results -->` becomes the list of benchmark results: every file under
  `bench/results/` is published under `bench-results/` as it is (Markdown reports as pages, the
  growth curves and JSON as files), never copied by hand.

Wired in `mkdocs.yml` (`hooks:`); `make docs` builds the site, `make test` with `--strict`.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from pydantic import SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from coterie.config import Settings
from coterie.demo.docs import demo_network_markdown

ROOT = Path(__file__).resolve().parents[2]
BENCH_RESULTS = ROOT / "bench" / "results"
PUBLISHED_RESULTS = "bench-results"


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Publish bench/results/ under bench-results/ (pages for .md, plain files otherwise)."""
    for path in _result_files():
        files.append(
            File.generated(config, f"{PUBLISHED_RESULTS}/{path.name}", abs_src_path=str(path))
        )
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    replacements: dict[str, Callable[[], str]] = {
        "<!-- coterie:settings -->": settings_markdown,
        "<!-- coterie:demo-network -->": demo_network_markdown,
        "<!-- coterie:bench-results -->": partial(bench_results_markdown, page),
    }
    for marker, render in replacements.items():
        if marker in markdown:
            markdown = markdown.replace(marker, render())
    return markdown


# --- configuration ---------------------------------------------------------------------------


def settings_markdown() -> str:
    """One row per setting of `coterie.config.Settings`, in the order the class declares them."""
    prefix = str(Settings.model_config.get("env_prefix", ""))
    lines = ["| Variable | Type | Default | Meaning |", "|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        if not field.description:
            raise ValueError(
                f"coterie.config.Settings.{name} has no description: add "
                "Field(description=...) so the configuration page can say what it does"
            )
        variable = f"{prefix}{name}".upper()
        meaning = _cell(field.description + _bounds(field))
        lines.append(
            f"| `{variable}` | {_type_name(field.annotation)} | {_default(field)} | {meaning} |"
        )
    return "\n".join(lines)


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return "one of " + ", ".join(f"`{value}`" for value in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return " or ".join(_type_name(arg) for arg in args) + " (optional)"
    if annotation is SecretStr:
        return "secret"
    names = {str: "text", int: "integer", float: "number", bool: "boolean", Path: "path"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _default(field: FieldInfo) -> str:
    value = field.default
    if value is PydanticUndefined or value is None:
        return "unset"
    if value == "":
        return "empty"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def _bounds(field: FieldInfo) -> str:
    bounds = [
        f"at least {item.ge}" for item in field.metadata if getattr(item, "ge", None) is not None
    ]
    return f" ({', '.join(bounds)})" if bounds else ""


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


# --- benchmark results -----------------------------------------------------------------------


def _result_files() -> list[Path]:
    if not BENCH_RESULTS.is_dir():
        return []
    return sorted(
        path
        for path in BENCH_RESULTS.iterdir()
        if path.is_file() and path.suffix in {".md", ".json", ".png"}
    )


def bench_results_markdown(page: Page) -> str:
    """A list of the published results, newest first, each report with its title."""
    base = "../" * page.file.src_uri.count("/")
    lines = []
    for path in sorted(_result_files(), key=lambda p: p.name, reverse=True):
        link = f"{base}{PUBLISHED_RESULTS}/{path.name}"
        if path.suffix == ".md":
            title = _title(path)
            lines.append(f"- [{title}]({link}) (`bench/results/{path.name}`)")
        else:
            lines.append(f"- [`bench/results/{path.name}`]({link})")
    if not lines:
        return "No results are kept in `bench/results/` yet."
    return "\n".join(lines)


def _title(path: Path) -> str:
    for line in path.read_text().splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return path.stem
