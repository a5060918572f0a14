"""`coterie backup` and `coterie restore`: the engine for the configured database, the checks
before anything is touched, and what was written.

Restore order: the archive exists and is of the configured database's kind; it is whole and a
Coterie database at a schema revision this code knows (a newer one is refused); the target is
empty (no row in any table but `alembic_version`) unless `force`; then the copy. An archive at
an older revision is migrated to this code's revision right after the restore (what
`coterie db upgrade` would do; the server refuses to start on an older schema anyway).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import make_url

from coterie import migrate
from coterie.backup import postgres, revisions, sqlite
from coterie.backup.archive import (
    ArchiveKind,
    BackupError,
    Contents,
    default_name,
    default_path,
    kind_of,
    refuse_existing,
    refuse_other_kind,
)
from coterie.config import Settings
from coterie.db import utcnow


@dataclass(frozen=True)
class BackupDone:
    path: Path
    size: int
    contents: Contents
    seconds: float


@dataclass(frozen=True)
class RestoreDone:
    path: Path
    contents: Contents
    archive_revision: str
    migrated_to: str | None  # the revision reached by migrating an older archive; None: none
    seconds: float


def database_kind(url: str) -> ArchiveKind:
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        return ArchiveKind.SQLITE
    if backend == "postgresql":
        return ArchiveKind.POSTGRESQL
    raise BackupError(f"Backups support SQLite and PostgreSQL, not {backend}.")


def backup(settings: Settings, path: Path | None = None) -> BackupDone:
    """Back up the configured database into `path` (a new file, or a folder to put one in;
    default data_dir/backups/coterie-<UTC timestamp>.<sqlite3|pgdump>)."""
    url = settings.resolved_migration_database_url
    kind = database_kind(url)
    started = time.monotonic()
    if path is None:
        target = default_path(settings.data_dir, kind, utcnow())
    elif path.is_dir():
        target = path / default_name(kind, utcnow())
    else:
        target = path
    refuse_existing(target)
    found = (
        sqlite.backup(url, target) if kind is ArchiveKind.SQLITE else postgres.backup(url, target)
    )
    return BackupDone(target, target.stat().st_size, found, time.monotonic() - started)


def verify(settings: Settings, path: Path) -> tuple[ArchiveKind, Contents, bool]:
    """The archive's kind and contents, and whether it needs migrating after a restore;
    BackupError for any archive `restore` would refuse."""
    kind = database_kind(settings.resolved_migration_database_url)
    found_kind = kind_of(path)
    refuse_other_kind(path, found_kind, kind)
    found = sqlite.verify(path) if kind is ArchiveKind.SQLITE else postgres.verify(path)
    older = revisions.check(found.revision, str(path))
    return kind, found, older


def restore(settings: Settings, path: Path, *, force: bool = False) -> RestoreDone:
    """Replace the configured database with the archive at `path` (see the module doc)."""
    url = settings.resolved_migration_database_url
    started = time.monotonic()
    kind, found, older = verify(settings, path)
    empty = (
        sqlite.is_empty(sqlite.database_path(url))
        if kind is ArchiveKind.SQLITE
        else (postgres.is_empty(url))
    )
    if not empty and not force:
        raise BackupError(
            "The database already holds data: restoring would replace all of it with the "
            "archive's, so nothing was changed. Run `coterie backup` first if you may need it, "
            "then repeat with --force, which deletes every table of the database and restores "
            "the archive in their place."
        )
    if kind is ArchiveKind.SQLITE:
        restored = sqlite.restore(path, url)
    else:
        restored = postgres.restore(path, url, settings.resolved_database_url)
    migrated_to = migrate.upgrade(url) if older else None
    revision = found.revision or ""
    return RestoreDone(path, restored, revision, migrated_to, time.monotonic() - started)
