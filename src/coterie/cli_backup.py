"""`coterie backup` and `coterie restore` (the logic lives in `coterie.backup`).

Imports of the application stay inside the commands, as in `coterie.cli` (see its module doc).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from coterie.config import get_settings

if TYPE_CHECKING:
    from coterie.backup.archive import Contents

console = Console()
err = Console(stderr=True)


def _size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"  # pragma: no cover


def _print_tables(contents: Contents) -> None:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("Table")
    table.add_column("Rows", justify="right")
    for entry in contents.tables:
        table.add_row(entry.name, f"{entry.rows:,}")
    console.print(table)


def backup(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="The archive to write (a new file), or a folder to write it in. Default: "
            "DATA_DIR/backups/coterie-<UTC timestamp>.sqlite3 (.pgdump on PostgreSQL)."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option(help="Print only the archive's path.")] = False,
) -> None:
    """Back up the whole database while the server runs.

    SQLite: a consistent copy with SQLite's online backup API. PostgreSQL: pg_dump in its
    custom format, as the tables' owner (COTERIE_MIGRATION_DATABASE_URL, else
    COTERIE_DATABASE_URL). Restore it with `coterie restore PATH`.
    """
    from coterie.backup import operations  # lazy (module doc)
    from coterie.backup.archive import BackupError  # lazy (module doc)

    try:
        done = operations.backup(get_settings(), path)
    except BackupError as exc:
        _fail(str(exc))
    if quiet:
        console.print(str(done.path), soft_wrap=True, highlight=False)
        return
    _print_tables(done.contents)
    console.print(
        f"[green]Backed up {len(done.contents.tables)} tables, {done.contents.rows:,} rows "
        f"(schema revision {done.contents.revision}) in {done.seconds:.1f} s[/green] to",
    )
    console.print(str(done.path), soft_wrap=True, highlight=False)
    console.print(f"Size: {_size(done.size)}.")


def restore(
    path: Annotated[Path, typer.Argument(help="An archive made by `coterie backup`.")],
    force: Annotated[
        bool,
        typer.Option(
            help="Restore even though the database holds data: every table of the database is "
            "deleted and replaced by the archive's."
        ),
    ] = False,
) -> None:
    """Restore an archive made by `coterie backup` into the configured database.

    The archive is verified first (its kind, integrity and schema revision); a database that
    holds data is refused unless --force is given. An archive from an older version of Coterie
    is migrated to this version's schema right after. Stop the server while restoring.
    """
    from coterie.backup import operations  # lazy (module doc)
    from coterie.backup.archive import BackupError  # lazy (module doc)

    try:
        done = operations.restore(get_settings(), path, force=force)
    except BackupError as exc:
        _fail(str(exc))
    _print_tables(done.contents)
    console.print(
        f"[green]Restored {len(done.contents.tables)} tables, {done.contents.rows:,} rows "
        f"(schema revision {done.archive_revision}) in {done.seconds:.1f} s[/green] from",
    )
    console.print(str(done.path), soft_wrap=True, highlight=False)
    if done.migrated_to:
        console.print(
            f"The archive came from an older version: the database was migrated from revision "
            f"{done.archive_revision} to {done.migrated_to}."
        )


def _fail(message: str) -> NoReturn:
    err.print(Text(message, style="red"), soft_wrap=True)
    raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)
