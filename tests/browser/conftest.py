"""Browser tests: a real server, a real SMTP server and Debian's Chromium driven by Playwright.

One uvicorn server (in a thread of the test process) serves a freshly migrated database for the
whole session: PostgreSQL when one answers (CI requires it), else SQLite. Every test of this
folder is in the xdist group "browser", so `-n 2 --dist loadgroup` runs them all on one worker
with one server and one browser.

Chromium is `/usr/bin/chromium` (Debian's package; `playwright install` is not used). When it or
Playwright's driver is missing the tests are skipped, except with CI=true, where they fail.

Screenshots (full-page PNG) go to `test-artifacts/screenshots/`; a failing test also leaves one
of every page it had open, named `FAILED-<test>-<n>.png`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import make_url

from coterie import migrate
from coterie.app import create_app
from tests.browser.helpers import FAILED, LiveServer, Visitor
from tests.conftest import make_settings
from tests.fixtures.databases import IN_CI, app_role_url, fresh_database, pg_available
from tests.fixtures.live_server import free_port
from tests.fixtures.smtp import SmtpServer
from tests.fixtures.tryton import fresh_tryton as fresh_tryton

CHROMIUM = os.environ.get("COTERIE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`--dist loadgroup` on an xdist worker: give each `xdist_group` test its `@group` node-id
    suffix, which the scheduler groups by. pytest-xdist sets `item._nodeid`, which pytest 9.2
    no longer reads (node ids live in `item._id`), so without this the group is ignored and the
    journeys, which build on each other, would be split between workers."""
    if not getattr(config.option, "loadgroup", False):
        return
    try:
        from _pytest.nodeid import coerce_node_id
    except ImportError:  # an older pytest: xdist's own suffix works there
        return
    for item in items:
        names = sorted(
            {
                str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                for m in item.iter_markers("xdist_group")
            }
        )
        if names and "@" not in item.nodeid:
            item._id = coerce_node_id(f"{item.nodeid}@{'_'.join(names)}")  # type: ignore[attr-defined]


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true but the browser tests cannot run: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser_app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """ONE database for the browser suite, not both, under names of its own (so the rest of the
    suite's `database_url`/`app_database_url` on the same worker are never confused with it).

    PostgreSQL when it answers (with CI=true it must: `fresh_database` fails otherwise), else
    SQLite; the app connects as a role that owns nothing (`app_role_url`)."""
    kind = "postgresql" if IN_CI or pg_available() else "sqlite"
    with fresh_database(kind, tmp_path_factory.mktemp("browser-db")) as url:
        migrate.upgrade(url)
        with app_role_url(url) as app_url:
            yield app_url


@pytest.fixture(scope="session")
def live_server(
    browser_app_url: str, smtp_server: SmtpServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    port = free_port()
    settings = make_settings(
        browser_app_url,
        tmp_path_factory.mktemp("browser-data"),
        smtp_server.port,
        base_url=f"http://127.0.0.1:{port}",
    )
    application = create_app(settings)
    server = LiveServer(application, port)
    server.start()
    yield server
    server.stop()
    application.state.engine.dispose()


@pytest.fixture(scope="session")
def database_kind(browser_app_url: str) -> str:
    return make_url(browser_app_url).get_backend_name()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, launched by Playwright's sync API."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError as exc:  # pragma: no cover - a dev dependency
        _unavailable(f"Playwright for Python is not installed: {exc}")
    try:
        manager = sync_playwright().start()
    except Exception as exc:  # the driver (node) is missing or broken
        _unavailable(f"Playwright's driver does not start: {exc}")
    try:
        chromium = manager.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Error as exc:
        manager.stop()
        _unavailable(f"Chromium does not start: {exc}")
    yield chromium
    chromium.close()
    manager.stop()


@pytest.fixture(scope="session")
def screenshots(pytestconfig: pytest.Config) -> Path:
    """The screenshots folder, emptied once per run (xdist workers share the run's id)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    workerinput = getattr(pytestconfig, "workerinput", {})
    run_id = str(workerinput.get("testrunuid") or uuid.uuid4().hex)
    marker = SCREENSHOTS / ".run"
    if not marker.exists() or marker.read_text() != run_id:
        for old in SCREENSHOTS.glob("*.png"):
            old.unlink(missing_ok=True)
        marker.write_text(run_id)
    return SCREENSHOTS


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


@pytest.fixture
def visitors(browser: Any, request: pytest.FixtureRequest) -> Iterator[list[Visitor]]:
    """The visitors a test opens (it appends them): each closed after the test, and shot first
    (`FAILED-<test>-<visitor>.png`) when the test failed."""
    opened: list[Visitor] = []
    yield opened
    for visitor in opened:
        if request.node.stash.get(FAILED, False):
            with contextlib.suppress(Exception):
                visitor.shot(f"FAILED-{request.node.name}-{visitor.name}")
        visitor.close()
