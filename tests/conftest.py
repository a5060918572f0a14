"""Test set-up: every test runs on SQLite and on PostgreSQL, against real databases.

PostgreSQL is used when one answers on COTERIE_TEST_PG_URL (default the local server); with
CI=true its absence fails the run instead of skipping. Each run creates uniquely named
databases and drops them at the end. As in production, migrations run as the owner and the app
connects as a role that owns nothing, so row-level security applies to it. A real SMTP server
(aiosmtpd) receives every e-mail.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, text

from coterie import migrate, wiring
from coterie.app import create_app
from coterie.auth import passwords
from coterie.config import Settings
from coterie.db import Base
from tests.fixtures.databases import IN_CI as IN_CI
from tests.fixtures.databases import KINDS, app_role_url, fresh_database
from tests.fixtures.smtp import Inbox, SmtpServer

# record writes announce hooks (records.hooks): subscribe activity and workflows, as the app
# factory and the CLI do, so tests that call services without building an app get them too
wiring.install()

hypothesis_settings.register_profile(
    "ci", max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.register_profile(
    "deep", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# `COTERIE_TEST_CLOCK_SHIFT_DAYS=365` runs the tests with the clock that many days ahead (the app
# and the tests in this process; the database servers keep theirs, which the app never reads):
# `make test` runs the date-sensitive modules (marker `clock`) so, to catch tests that hold a
# literal date that "today" will one day reach.
CLOCK_SHIFT_DAYS = int(os.environ.get("COTERIE_TEST_CLOCK_SHIFT_DAYS", "0"))


# modules whose outcome involves "today": review periods, expiries, quarters, goals, digests,
# token and link lifetimes, relative demo dates, due dates
DATE_SENSITIVE = (
    "tests/activity/test_notifications.py",
    "tests/auth/",
    "tests/company_export/",
    "tests/cosell/",
    "tests/demo/",
    "tests/network/test_members.py",
    "tests/records/test_export.py",
    "tests/records/test_list_query.py",
    "tests/reports/",
    "tests/web/test_settings_pages.py",
    "tests/workflows/",
)


def pytest_configure(config: pytest.Config) -> None:
    if CLOCK_SHIFT_DAYS:
        shifted = datetime.now(UTC) + timedelta(days=CLOCK_SHIFT_DAYS)
        time_machine.travel(shifted, tick=True).start()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = Path(str(config.rootpath))
    for item in items:
        if Path(str(item.path)).relative_to(root).as_posix().startswith(DATE_SENSITIVE):
            item.add_marker(pytest.mark.clock)


# Password hashing at the library's recommended cost takes ~150 ms; tests use argon2id with the
# cheapest parameters so the suite stays fast. Subprocess tests (CLI, server) keep the real cost.
passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


class _UnhandledErrors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def fail_on_unhandled_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """The app answers an unexpected exception with a 500 (it never raises it into the test
    client, see coterie.errors.UnhandledErrorMiddleware), so a test in which one happened fails
    here with its traceback, unless it is marked `unhandled_errors_expected`."""
    handler = _UnhandledErrors()
    logger = logging.getLogger("coterie.errors")
    logger.addHandler(handler)
    yield
    logger.removeHandler(handler)
    if handler.records and not request.node.get_closest_marker("unhandled_errors_expected"):
        formatter = logging.Formatter()
        pytest.fail(
            "the app hit an unexpected error:\n"
            + "\n".join(formatter.format(record) for record in handler.records)
        )


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def inbox(smtp_server: SmtpServer) -> Inbox:
    smtp_server.inbox.clear()
    return smtp_server.inbox


@pytest.fixture(scope="session", params=KINDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("sqlite") if request.param == "sqlite" else Path()
    with fresh_database(request.param, directory) as url:
        migrate.upgrade(url)
        yield url


@pytest.fixture(scope="session")
def app_database_url(database_url: str) -> Iterator[str]:
    """The URL the app connects with (see `app_role_url`: on PostgreSQL a role owning nothing)."""
    with app_role_url(database_url) as url:
        yield url


def make_settings(
    database_url: str, data_dir: Path, smtp_port: int, **overrides: object
) -> Settings:
    values: dict[str, object] = {
        "env": "test",
        "database_url": database_url,
        "data_dir": data_dir,
        "secret_key": "test-secret-" + secrets.token_hex(16),
        "base_url": "http://testserver",
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "mail_dir": data_dir / "mail",
        # jobs run at once in the process that asks (the outbox's deliveries at commit); the
        # tests of the worker itself (tests/worker) run a real queue and consumer
        "jobs_immediate": True,
        # a company that signs up starts without the standard pipeline workflow here, so tests
        # build the workflows they need; tests/workflows/test_standard_workflow.py and the
        # board's browser journey turn it on as it ships
        "standard_workflow_at_signup": False,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def app(
    app_database_url: str, smtp_server: SmtpServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FastAPI]:
    settings = make_settings(app_database_url, tmp_path_factory.mktemp("data"), smtp_server.port)
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def settings(app: FastAPI) -> Iterator[Settings]:
    """The app's settings; a test may change them, they are restored afterwards."""
    original = app.state.settings.model_copy()
    yield app.state.settings
    for field in Settings.model_fields:
        setattr(app.state.settings, field, getattr(original, field))


def empty_all_tables(engine: Engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # DELETE of a few rows is ~10x faster than TRUNCATE; row-level security needs the
            # maintenance bypass for it (it is transaction-local)
            conn.execute(text("SELECT set_config('app.rls_bypass', 'on', true)"))
        for table in tables:
            conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608 (our table names)


@pytest.fixture
def client(app: FastAPI, inbox: Inbox, settings: Settings) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client
    empty_all_tables(app.state.engine)


@pytest.fixture
def engine(app: FastAPI) -> Engine:
    engine: Engine = app.state.engine
    return engine
