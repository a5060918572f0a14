"""Comment Markdown comes out as HTML without scripts, event handlers or script links."""

from __future__ import annotations

from html.parser import HTMLParser

from coterie.activity import markdown


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags_of(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def test_markdown_is_rendered() -> None:
    html = markdown.render("Hello **bold** and *em*\n\n- one\n- two\n\n`code`")
    assert "<strong>bold</strong>" in html
    assert "<em>em</em>" in html
    assert "<li>one</li>" in html
    assert "<code>code</code>" in html


def test_scripts_handlers_and_script_links_never_become_markup() -> None:
    html = markdown.render(
        "<script>alert(1)</script> <img src=x onerror=alert(2)> "
        '<a href="javascript:alert(3)">raw</a> [md](javascript:alert(4)) '
        "[data](data:text/html;base64,PHNjcmlwdD4=) <iframe src=https://evil.example></iframe>"
    )
    tags = tags_of(html)
    assert {tag for tag, _ in tags} <= {"p"}, tags
    assert all(not name.startswith("on") for _, attrs in tags for name in attrs)
    assert "javascript:" not in "".join(str(a.get("href")) for _, a in tags)


def test_links_open_apart_and_pass_no_credit() -> None:
    html = markdown.render(
        "See [the plan](https://example.com/plan) or mail [us](mailto:a@b.example)"
    )
    links = [attrs for tag, attrs in tags_of(html) if tag == "a"]
    assert [a["href"] for a in links] == ["https://example.com/plan", "mailto:a@b.example"]
    for attrs in links:
        assert attrs["target"] == "_blank"
        assert "nofollow" in str(attrs["rel"])
        assert "noopener" in str(attrs["rel"])


def test_a_mention_name_cannot_inject_markup() -> None:
    token = markdown.placeholder(0)
    html = markdown.render(f"Hi {token}!", {token: '<img src=x onerror="alert(1)">'})
    assert '<span class="mention">@&lt;img' in html
    assert [tag for tag, _ in tags_of(html)] == ["p", "span"]
