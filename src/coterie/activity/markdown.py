"""Comment text: Markdown to sanitized HTML.

Two locks on one door: markdown-it renders CommonMark with raw HTML *off* (a `<script>` typed
into a comment comes out as visible text, never as markup) and refuses `javascript:` style
links; nh3 (ammonia) then keeps only a short list of tags and attributes, only http(s) and
mailto links, and gives every link `rel="nofollow noopener noreferrer"` and `target="_blank"`.
Mentions are swapped for placeholders before rendering and for escaped `<span>`s after
sanitizing, so a display name can never inject markup either.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote",
        "ul", "ol", "li", "a", "h1", "h2", "h3", "h4", "h5", "h6",
        "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener noreferrer"

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(
    ["table", "strikethrough"]
)


def placeholder(index: int) -> str:
    """Text standing in for the `index`th mention while Markdown renders (letters only, so no
    Markdown rule touches it)."""
    return f"COTERIEMENTION{_letters(index)}X"


def _letters(index: int) -> str:
    text = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        text = chr(ord("A") + rest) + text
    return text


def sanitize(html: str) -> str:
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        set_tag_attribute_values={"a": {"target": "_blank"}},
    )


def render(source: str, mentions: Mapping[str, str] | None = None) -> str:
    """Markdown `source` (mentions already replaced by `placeholder(i)`) as safe HTML; each
    placeholder in `mentions` becomes `<span class="mention">@name</span>`."""
    html = sanitize(_markdown.render(source))
    for token, name in (mentions or {}).items():
        html = html.replace(token, f'<span class="mention">@{escape(name)}</span>')
    return html


def plain(source: str, mentions: Mapping[str, str] | None = None) -> str:
    """The comment as plain text (for e-mail): the Markdown source, mentions as @name."""
    text = source
    for token, name in (mentions or {}).items():
        text = text.replace(token, f"@{name}")
    return text
