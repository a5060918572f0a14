"""Browser-test helpers: a visitor (one browser context: its own cookies), screenshots, and the
recorder of everything a partner receives, which the canary checks read."""

from __future__ import annotations

import contextlib
import io
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Response, expect
from playwright.sync_api import Error as PlaywrightError
from pptx import Presentation

from tests.fixtures.builders import PASSWORD
from tests.fixtures.live_server import LiveServer as LiveServer
from tests.fixtures.smtp import Inbox

# set by the browser conftest when a test's call phase failed: the test then leaves screenshots
FAILED = pytest.StashKey[bool]()


# counts the XMLHttpRequests (htmx's) in flight. At the XHR, not with htmx's events: an event
# on an element that a swap removed never reaches the document. htmx swaps in `load`, before
# `loadend`, so a panel the swap loads on `load` is counted before the count falls.
_COUNT_HTMX_REQUESTS = """
(function () {
  var send = XMLHttpRequest.prototype.send;
  window.__htmxInFlight = 0;
  XMLHttpRequest.prototype.send = function () {
    window.__htmxInFlight += 1;
    this.addEventListener("loadend", function () {
      setTimeout(function () { window.__htmxInFlight -= 1; }, 0);
    });
    return send.apply(this, arguments);
  };
})();
"""

_TWO_FRAMES = """
() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))
"""

# what a response may carry that a person or a script reads: pages, fragments, JSON, exports
_TEXT_TYPES = ("text/html", "application/json", "application/problem+json", "text/csv", "text/")


@dataclass
class Received:
    """One document a visitor received: where from, and its text."""

    source: str
    text: str


@dataclass
class Recorder:
    """Every HTML page, htmx fragment, JSON and CSV body one visitor's browser receives, plus
    each rendered DOM (`page.content()`) and whatever the test adds (API calls, e-mails)."""

    documents: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, source: str, text: str) -> None:
        with self._lock:
            self.documents.append(Received(source, text))

    def on_response(self, response: Response) -> None:
        content_type = response.headers.get("content-type", "")
        if response.status >= 300 and response.status < 400:
            return  # a redirect has no body to read
        if not content_type.startswith(_TEXT_TYPES):
            return
        if response.url.endswith((".js", ".css", ".svg")):
            return  # our static files are the same for everyone
        try:
            body = response.text()
        except Exception:  # the page navigated away before its body was read
            return
        self.add(f"response {response.status} {response.url}", body)

    def leaks(self, patterns: list[re.Pattern[str]]) -> list[str]:
        found = []
        with self._lock:
            documents = list(self.documents)
        for doc in documents:
            for pattern in patterns:
                match = pattern.search(doc.text)
                if match:
                    start = max(match.start() - 80, 0)
                    found.append(f"{doc.source}: …{doc.text[start : match.end() + 80]}…")
        return found


class Visitor:
    """One person in their own browser context (cookies, CSRF token), on one page."""

    def __init__(
        self,
        name: str,
        browser: Browser,
        base_url: str,
        screenshots: Path,
        *,
        record: bool = False,
    ) -> None:
        self.name = name
        self.base_url = base_url
        self.screenshots = screenshots
        self.context: BrowserContext = browser.new_context(
            base_url=base_url, viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        self.context.set_default_timeout(10_000)
        self.recorder: Recorder | None = Recorder() if record else None
        if self.recorder is not None:
            self.context.on("response", self.recorder.on_response)
        self.context.add_init_script(script=_COUNT_HTMX_REQUESTS)
        self.page: Page = self.context.new_page()
        self.email = ""
        self.user_name = ""
        self.company = ""

    # -- navigation -------------------------------------------------------------------------

    def settle(self) -> None:
        """Wait until the page has loaded and no htmx request is in flight (the panels a record
        page loads on `load`, a swap after a click). A click that navigates may return before
        the next page is there: tests then `expect` what the next page shows."""
        self.page.wait_for_load_state("load")
        # polled from here: wait_for_function evaluates strings, which the CSP forbids
        deadline = time.monotonic() + 10
        while not self._quiet():
            assert time.monotonic() < deadline, f"{self.page.url}: htmx requests never ended"
            time.sleep(0.05)
        self.keep_dom()

    def _quiet(self) -> bool:
        try:
            return bool(
                self.page.evaluate(
                    "() => document.readyState === 'complete' && window.__htmxInFlight === 0"
                )
            )
        except PlaywrightError:  # a navigation replaced the document meanwhile
            return False

    def keep_dom(self) -> None:
        if self.recorder is not None:
            self.recorder.add(f"DOM of {self.page.url}", self.page.content())

    def go(self, path: str) -> Page:
        response = self.page.goto(path)
        assert response is not None
        assert response.status < 400, f"{self.name}: {path} answered {response.status}"
        self.settle()
        return self.page

    def click(self, locator: Locator) -> None:
        """Click something that navigates or swaps, then wait for the result to settle."""
        locator.click()
        self.settle()

    def shot(self, name: str) -> Path:
        """A full-page screenshot in the screenshots folder, once the page is quiet."""
        self.settle()
        with contextlib.suppress(PlaywrightError):  # scripts' own fetches (the network graph)
            self.page.wait_for_load_state("networkidle", timeout=3000)
        self.page.evaluate("() => window.scrollTo(0, 0)")  # the sticky top bar stays on top
        path = self.screenshots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def shots(self, name: str, widths: tuple[int, ...] = (1440, 1024)) -> list[Path]:
        """Full-page screenshots at each width (`<name>-<width>.png`), then back to the
        visitor's own viewport."""
        before = self.page.viewport_size or {"width": 1280, "height": 900}
        paths = []
        for width in widths:
            self.page.set_viewport_size({"width": width, "height": 900})
            # two frames: what follows the width on resize (Chart.js canvases) has caught up,
            # or the page is shot as wide as the last width
            self.page.evaluate(_TWO_FRAMES)
            paths.append(self.shot(f"{name}-{width}"))
        self.page.set_viewport_size(before)
        return paths

    def close(self) -> None:
        self.context.close()

    # -- accounts ---------------------------------------------------------------------------

    def sign_up(self, company: str, domain: str, name: str, email: str) -> None:
        self.go("/signup")
        page = self.page
        page.get_by_label("Company name").fill(company)
        page.get_by_label("Company domain").fill(domain)
        page.get_by_label("Your name").fill(name)
        page.get_by_label("Work e-mail").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        self.click(page.get_by_role("button", name="Create company account"))
        expect(page.get_by_role("heading", name=f"Welcome, {name}")).to_be_visible()
        self.company, self.user_name, self.email = company, name, email

    def sign_in(self, email: str) -> None:
        """Sign in with the tests' password and wait until the page shows it."""
        self.go("/login")
        self.page.get_by_label("Work e-mail").fill(email)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.click(self.page.get_by_role("button", name="Sign in"))
        expect(self.page.get_by_role("link", name="Sign in")).to_have_count(0)

    def flash(self) -> Locator:
        return self.page.locator("#flashes")

    def field(self, label: str) -> Locator:
        """A form control of my space by its label, which also carries a visibility marker
        ("Shared", a lock): the label text starts with `label` (a money field's currency box
        is "<label> currency")."""
        return self.page.get_by_label(re.compile(rf"^{re.escape(label)}(?! currency)(\s|$)"))


def assert_nothing_leaked(
    visitor: Visitor, inbox: Inbox, patterns: list[re.Pattern[str]], what: str
) -> None:
    """Nothing the recording `visitor` received (responses, its DOM now, its e-mails) matches
    `patterns`; `what` names the leak in the failure."""
    recorder = visitor.recorder
    assert recorder is not None
    visitor.keep_dom()
    for message in inbox.to(visitor.email):
        recorder.add(f"e-mail {message['Subject']}", body_text(message))
    leaks = recorder.leaks(patterns)
    assert not leaks, f"{what}:\n" + "\n".join(leaks[:5])


def canary_patterns(*values: str) -> list[re.Pattern[str]]:
    return [re.compile(re.escape(v), re.IGNORECASE) for v in values]


def amount_patterns(digits: str) -> list[re.Pattern[str]]:
    """An amount written any way a page, JSON or CSV could: 7373737.37, 7,373,737.37,
    7.373.737,37, 7 373 737 (thin or non-breaking spaces)."""
    groups = []
    rest = digits
    while len(rest) > 3:
        groups.insert(0, rest[-3:])
        rest = rest[:-3]
    groups.insert(0, rest)
    separated = r"[,.\s\u00a0\u202f']?".join(groups)
    return [re.compile(separated)]


def body_text(message: Any) -> str:
    """Every text part of an e-mail (plain and HTML)."""
    parts = []
    for part in message.walk():
        if part.get_content_type() in ("text/plain", "text/html"):
            parts.append(str(part.get_content()))
    return f"{message['Subject']}\n" + "\n".join(parts)


def read_deck(content: bytes) -> tuple[list[str], list[float]]:
    """The slides' titles and every number of the deck's charts."""
    slides = list(Presentation(io.BytesIO(content)).slides)
    titles = [s.shapes.title.text if s.shapes.title is not None else "" for s in slides]
    values = [
        float(v)
        for slide in slides
        for shape in slide.shapes
        if shape.has_chart
        for plot in shape.chart.plots
        for series in plot.series
        for v in series.values
        if v is not None
    ]
    return titles, values
