"""A tiny HTML reader for page tests, on the standard library's parser: elements, text, forms."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    parent: Element | None = None
    children: list[Element | str] = field(default_factory=list)

    def iter(self, tag: str | None = None) -> Iterator[Element]:
        for child in self.children:
            if isinstance(child, Element):
                if tag is None or child.tag == tag:
                    yield child
                yield from child.iter(tag)

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Element]:
        wanted = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}
        return [e for e in self.iter(tag) if all(e.attrs.get(k) == v for k, v in wanted.items())]

    def find(self, tag: str | None = None, **attrs: str) -> Element | None:
        found = self.find_all(tag, **attrs)
        return found[0] if found else None

    def by_id(self, element_id: str) -> Element | None:
        return self.find(None, id=element_id)

    @property
    def text(self) -> str:
        parts: list[str] = []

        def walk(node: Element) -> None:
            if node.tag in {"script", "style", "template"}:
                return
            for child in node.children:
                if isinstance(child, str):
                    parts.append(child)
                else:
                    walk(child)

        walk(self)
        return re.sub(r"\s+", " ", "".join(parts)).strip()

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def ancestors(self) -> Iterator[Element]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v if v is not None else "" for k, v in attrs}, self.current)
        self.current.children.append(element)
        if tag not in VOID:
            self.current = element

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v if v is not None else "" for k, v in attrs}, self.current)
        self.current.children.append(element)

    def handle_endtag(self, tag: str) -> None:
        node: Element | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


@dataclass
class Form:
    element: Element

    @property
    def action(self) -> str:
        return self.element.attrs.get("action", "")

    @property
    def method(self) -> str:
        return self.element.attrs.get("method", "get").lower()

    def fields(self) -> dict[str, str | list[str]]:
        """What a browser would submit without the user touching anything."""
        data: dict[str, list[str]] = {}
        for control in self.element.iter():
            name = control.attrs.get("name")
            if not name or "disabled" in control.attrs:
                continue
            if control.tag == "input":
                kind = control.attrs.get("type", "text")
                if kind in {"checkbox", "radio"} and "checked" not in control.attrs:
                    continue
                if kind in {"submit", "button", "reset", "file"}:
                    continue
                data.setdefault(name, []).append(
                    control.attrs.get("value", "on" if kind in {"checkbox", "radio"} else "")
                )
            elif control.tag == "textarea":
                data.setdefault(name, []).append(control.text)
            elif control.tag == "select":
                options = list(control.iter("option"))
                chosen = [o for o in options if "selected" in o.attrs] or options[:1]
                for option in chosen:
                    data.setdefault(name, []).append(option.attrs.get("value", option.text))
        return {k: v[0] if len(v) == 1 else v for k, v in data.items()}

    @property
    def text(self) -> str:
        return self.element.text


class Page:
    def __init__(self, html: str) -> None:
        builder = _Builder()
        builder.feed(html)
        builder.close()
        self.html = html
        self.root = builder.root

    @property
    def title(self) -> str:
        node = self.root.find("title")
        return node.text if node else ""

    @property
    def h1(self) -> list[str]:
        return [e.text for e in self.root.iter("h1")]

    @property
    def text(self) -> str:
        body = self.root.find("body")
        return (body or self.root).text

    @property
    def main_text(self) -> str:
        main = self.root.find("main")
        return main.text if main else ""

    def forms(self, action: str | None = None) -> list[Form]:
        return [
            Form(e)
            for e in self.root.iter("form")
            if action is None or e.attrs.get("action") == action
        ]

    def form(self, action: str, containing: str | None = None) -> Form:
        found = [f for f in self.forms(action) if containing is None or containing in f.text]
        assert found, f"no form posting to {action} on the page"
        return found[0]

    def links(self) -> list[str]:
        return [a.attrs.get("href", "") for a in self.root.iter("a")]

    def errors(self) -> dict[str, str]:
        """Field errors by input name: `{"user.email": "..."}`, plus "form" for form alerts."""
        found: dict[str, str] = {}
        for error in self.root.iter("p"):
            if "field-error" not in error.classes():
                continue
            input_id = error.attrs.get("id", "").removesuffix("-error")
            control = self.root.by_id(input_id)
            name = control.attrs.get("name") if control is not None else None
            if control is not None and control.tag == "fieldset":
                box = control.find("input")
                name = box.attrs.get("name") if box is not None else None
            found[name or input_id] = error.text
        main = self.root.find("main") or self.root
        for alert in main.iter("div"):
            if "alert-error" in alert.classes() and alert.attrs.get("role") == "alert":
                found.setdefault("form", alert.text)
        return found

    def flashes(self) -> list[str]:
        box = self.root.by_id("flashes")
        return [e.text for e in box.iter("div")] if box is not None else []


def parse(html: str) -> Page:
    return Page(html)
