"""Fresh, empty databases for tests that need one of their own (demo loading, `db upgrade`).

The session-wide `database_url` fixture is migrated and shared by the API tests, so tests that
load the demo network or migrate from nothing create and drop their own database here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import (
    IN_CI,
    PG_ADMIN_URL,
    _create_pg_database,
    _pg_available,
    drop_pg_database,
)

KINDS = ["sqlite", "postgresql"]


@contextmanager
def fresh_database(kind: str, directory: Path) -> Iterator[str]:
    """The URL of a new, empty, un-migrated database of `kind`; PostgreSQL ones are dropped."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'coterie.sqlite3'}"
        return
    if not _pg_available():
        if IN_CI:
            pytest.fail(f"CI=true but PostgreSQL is not reachable at {PG_ADMIN_URL}")
        pytest.skip("PostgreSQL is not reachable; set COTERIE_TEST_PG_URL")
    name, url = _create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(name)
