"""SQLite backups with SQLite's online backup API: a consistent copy while the server runs.

The copy is written next to its final name and renamed into place once verified, so a failed
backup leaves no half-written archive. It is switched to the rollback journal (one
self-contained file, readable without -wal or -shm files). A restore checks the archive
(`PRAGMA integrity_check`, an `alembic_version` row) read-only, then copies it into the target
with the same API, in one transaction of the target: a reader sees the old database or the new
one, never a mix.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import make_url

from coterie.backup.archive import VERSION_TABLE, BackupError, Contents, TableCount, coterie_tables

PAGES_PER_STEP = 1024
BUSY_TIMEOUT_SECONDS = 30.0


def database_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError(f"{url} is no SQLite file: there is nothing to back up or restore.")
    return Path(database)


@contextlib.contextmanager
def _connect(path: Path, *, read_only: bool) -> Iterator[sqlite3.Connection]:
    uri = f"{path.resolve().as_uri()}?mode={'ro' if read_only else 'rwc'}"
    connection = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        yield connection
    finally:
        connection.close()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def contents(connection: sqlite3.Connection) -> Contents:
    """Row counts of the Coterie tables present, and the schema revision."""
    present = {
        row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    counts = tuple(
        TableCount(name, connection.execute(f"SELECT count(*) FROM {_quote(name)}").fetchone()[0])  # noqa: S608 (quoted names of our tables)
        for name in coterie_tables()
        if name in present
    )
    revision = None
    if VERSION_TABLE in present:
        row = connection.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()  # noqa: S608
        revision = row[0] if row else None
    return Contents(revision, counts)


def is_empty(path: Path) -> bool:
    """No table of the database at `path` holds a row (`alembic_version` aside); a missing file
    is empty."""
    if not path.exists() or path.stat().st_size == 0:
        return True
    with _connect(path, read_only=True) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return not any(
            connection.execute(f"SELECT 1 FROM {_quote(name)} LIMIT 1").fetchone()  # noqa: S608
            for name in tables
            if name != VERSION_TABLE
        )


def verify(path: Path) -> Contents:
    """Open the archive read-only: whole (integrity_check) and with Coterie's tables."""
    try:
        with _connect(path, read_only=True) as connection:
            problems = [row[0] for row in connection.execute("PRAGMA integrity_check")]
            if problems != ["ok"]:
                raise BackupError(
                    f"{path} is damaged (SQLite integrity check: {'; '.join(problems[:5])}); "
                    "nothing was changed."
                )
            found = contents(connection)
    except sqlite3.DatabaseError as exc:
        raise BackupError(
            f"{path} is damaged: SQLite cannot read it ({exc}); nothing was changed."
        ) from exc
    if not found.tables:
        raise BackupError(f"{path} holds none of Coterie's tables: it is not a Coterie database.")
    return found


def backup(url: str, target: Path) -> Contents:
    """Copy the database at `url` into the new file `target`; what it holds."""
    source_path = database_path(url)
    if not source_path.exists():
        raise BackupError(f"The database {source_path} does not exist: nothing to back up.")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        with (
            _connect(source_path, read_only=True) as source,
            _connect(partial, read_only=False) as copy,
        ):
            source.backup(copy, pages=PAGES_PER_STEP)
            copy.execute("PRAGMA journal_mode=DELETE")
        found = verify(partial)
        partial.rename(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return found


def restore(archive: Path, url: str) -> Contents:
    """Replace the database at `url` with the archive's content (one transaction of the
    target); what it holds now. The caller verified the archive and the target."""
    target_path = database_path(url)
    target_path.parent.mkdir(parents=True, exist_ok=True)
    with (
        _connect(archive, read_only=True) as source,
        _connect(target_path, read_only=False) as target,
    ):
        source.backup(target)  # one step: the target is written in a single transaction
        target.execute("PRAGMA journal_mode=WAL")  # as the app runs it
        return contents(target)
