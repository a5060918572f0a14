"""What a backup archive is: its kind (told by its first bytes), its default name, the errors
an operator reads, and the tables and rows a backup or restore reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from coterie import models  # noqa: F401 (every table on Base.metadata)
from coterie.db import Base

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"
VERSION_TABLE = "alembic_version"


class BackupError(RuntimeError):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


class ArchiveKind(StrEnum):
    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"

    @property
    def suffix(self) -> str:
        return ".sqlite3" if self is ArchiveKind.SQLITE else ".pgdump"

    @property
    def description(self) -> str:
        if self is ArchiveKind.SQLITE:
            return "a SQLite database file (made by `coterie backup` on SQLite)"
        return (
            "a PostgreSQL archive (pg_dump custom format, made by `coterie backup` on PostgreSQL)"
        )


@dataclass(frozen=True)
class TableCount:
    name: str
    rows: int


@dataclass(frozen=True)
class Contents:
    """The tables of a database or archive with their row counts, and its schema revision."""

    revision: str | None
    tables: tuple[TableCount, ...]

    @property
    def rows(self) -> int:
        return sum(table.rows for table in self.tables)


def coterie_tables() -> list[str]:
    """Every table of the schema, parents before children, then `alembic_version`."""
    return [table.name for table in Base.metadata.sorted_tables] + [VERSION_TABLE]


def kind_of(path: Path) -> ArchiveKind:
    """The kind of archive at `path`; BackupError when it is missing or neither kind."""
    if not path.exists():
        raise BackupError(f"There is no file {path}.")
    if not path.is_file():
        raise BackupError(f"{path} is not a file.")
    with path.open("rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return ArchiveKind.SQLITE
    if head.startswith(PG_CUSTOM_MAGIC):
        return ArchiveKind.POSTGRESQL
    raise BackupError(
        f"{path} is not a Coterie backup: it is neither a SQLite database file nor a PostgreSQL "
        "archive in pg_dump's custom format."
    )


def refuse_other_kind(path: Path, found: ArchiveKind, database: ArchiveKind) -> None:
    if found is not database:
        raise BackupError(
            f"{path} is {found.description}, but the database configured is {database.value}: "
            f"an archive restores only into the kind of database it came from. Point "
            "COTERIE_DATABASE_URL (and COTERIE_MIGRATION_DATABASE_URL) at a "
            f"{found.value} database to restore it."
        )


def default_name(kind: ArchiveKind, now: datetime) -> str:
    """coterie-<UTC timestamp><suffix>, e.g. coterie-20261207T150003Z.sqlite3."""
    return f"coterie-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}{kind.suffix}"


def default_path(data_dir: Path, kind: ArchiveKind, now: datetime) -> Path:
    """data_dir/backups/<default_name>."""
    return data_dir / "backups" / default_name(kind, now)


def refuse_existing(path: Path) -> None:
    if path.exists():
        raise BackupError(f"{path} already exists: a backup never overwrites a file.")
