"""Fixtures of the demo tests: an empty database each, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from coterie import migrate
from coterie.config import Settings
from tests.conftest import make_settings
from tests.fixtures.databases import KINDS, fresh_database
from tests.fixtures.smtp import SmtpServer


@pytest.fixture(params=KINDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def migrated_database_url(empty_database_url: str) -> str:
    migrate.upgrade(empty_database_url)
    return empty_database_url


@pytest.fixture
def demo_settings(migrated_database_url: str, tmp_path: Path, smtp_server: SmtpServer) -> Settings:
    """Settings of a migrated, empty database, with real SMTP delivery configured."""
    return make_settings(migrated_database_url, tmp_path / "data", smtp_server.port)
