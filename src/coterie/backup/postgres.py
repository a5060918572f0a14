"""PostgreSQL backups with `pg_dump --format=custom`, restores with `pg_restore`.

Both connect as the tables' owner (COTERIE_MIGRATION_DATABASE_URL): the app's role is subject to
row-level security and would dump nothing from the shared-record tables. The row counts a backup
reports are read in the very snapshot pg_dump dumps (`pg_export_snapshot`, `--snapshot`). The
password, if any, goes to the tools in PGPASSWORD, never on their command line.

A restore verifies the archive first (`pg_restore --list` reads it and it holds Coterie's tables,
its alembic_version row is read from it), then drops the target's tables (it was checked empty,
or the operator said --force) and runs `pg_restore --single-transaction --exit-on-error
--no-owner --no-acl`: the restoring role owns what it creates, and the app role, when the app
connects as another one, is granted its rights again (`rls.grant_app_role`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import URL, make_url

from coterie.authz import rls
from coterie.backup.archive import VERSION_TABLE, BackupError, Contents, TableCount, coterie_tables
from coterie.db import make_engine

_COPY = re.compile(r"^COPY \S*alembic_version \(version_num\) FROM stdin;$")


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection URI for `url` without its password, and the environment carrying it."""
    parsed: URL = make_url(url).set(drivername="postgresql")
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
        parsed = parsed.set(password=None)
    return parsed.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not on PATH: install PostgreSQL's client tools, of the server's major "
            "version or newer (Debian/Ubuntu: apt install postgresql-client), then try again."
        )
    return found


def _run(arguments: list[str], env: dict[str, str], what: str) -> str:
    done = subprocess.run(arguments, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def _connect(url: str) -> psycopg.Connection[tuple[object, ...]]:
    uri, env = _libpq(url)
    password = env.get("PGPASSWORD")
    try:
        return psycopg.connect(uri, password=password) if password else psycopg.connect(uri)
    except psycopg.Error as exc:
        raise BackupError(f"Cannot connect to the database: {exc}") from exc


def _present_tables(connection: psycopg.Connection[tuple[object, ...]]) -> list[str]:
    rows = connection.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
    ).fetchall()
    return [str(row[0]) for row in rows]


def contents(connection: psycopg.Connection[tuple[object, ...]]) -> Contents:
    present = set(_present_tables(connection))
    counts = []
    for name in coterie_tables():
        if name in present:
            statement = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name))
            row = connection.execute(statement).fetchone()
            counts.append(TableCount(name, int(str(row[0])) if row else 0))
    revision = None
    if VERSION_TABLE in present:
        row = connection.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()  # noqa: S608
        revision = str(row[0]) if row else None
    return Contents(revision, tuple(counts))


def is_empty(url: str) -> bool:
    """No table of the target's schema holds a row (`alembic_version` aside)."""
    with _connect(url) as connection:
        for name in _present_tables(connection):
            if name == VERSION_TABLE:
                continue
            statement = sql.SQL("SELECT 1 FROM {} LIMIT 1").format(sql.Identifier(name))
            if connection.execute(statement).fetchone() is not None:
                return False
    return True


def backup(url: str, target: Path) -> Contents:
    """`pg_dump --format=custom` of the database at `url` into the new file `target`."""
    pg_dump = _tool("pg_dump")
    uri, env = _libpq(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        with _connect(url) as connection:
            connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            row = connection.execute("SELECT pg_export_snapshot()").fetchone()
            snapshot = str(row[0]) if row else ""
            found = contents(connection)
            _run(
                [
                    pg_dump,
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    f"--file={partial}",
                    f"--dbname={uri}",
                ],
                env,
                "pg_dump",
            )
            connection.rollback()
        verify(partial)
        partial.rename(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return found


def _listed_tables(listing: str) -> set[str]:
    """Table names in a `pg_restore --list` table of contents."""
    tables = set()
    for line in listing.splitlines():
        if line.startswith(";"):
            continue
        parts = line.split()
        # "215; 1259 16390 TABLE public companies owner"
        if len(parts) >= 6 and parts[3] == "TABLE" and parts[4] != "DATA":
            tables.add(parts[5])
    return tables


def verify(archive: Path) -> Contents:
    """Read the archive's table of contents and its alembic_version row (row counts are not
    known before a restore: each table is reported with 0)."""
    pg_restore = _tool("pg_restore")
    env = dict(os.environ)
    listing = _run([pg_restore, "--list", str(archive)], env, f"Reading {archive}")
    tables = _listed_tables(listing)
    if VERSION_TABLE not in tables or "companies" not in tables:
        raise BackupError(f"{archive} holds none of Coterie's tables: it is not a Coterie archive.")
    data = _run(
        [pg_restore, "--data-only", f"--table={VERSION_TABLE}", "--file=-", str(archive)],
        env,
        f"Reading {archive}",
    )
    lines = data.splitlines()
    revision = None
    for index, line in enumerate(lines):
        if _COPY.match(line) and index + 1 < len(lines) and lines[index + 1] != "\\.":
            revision = lines[index + 1].strip()
    known = [TableCount(name, 0) for name in coterie_tables() if name in tables]
    return Contents(revision, tuple(known))


def _drop_tables(url: str) -> None:
    with _connect(url) as connection, connection.transaction():
        for name in _present_tables(connection):
            statement = sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(sql.Identifier(name))
            connection.execute(statement)


def restore(archive: Path, url: str, app_url: str) -> Contents:
    """Replace the tables of the database at `url` with the archive's; what it holds now. The
    caller verified the archive and the target. `app_url`'s role, when another than `url`'s,
    gets the app's rights on the restored tables."""
    pg_restore = _tool("pg_restore")
    uri, env = _libpq(url)
    _drop_tables(url)
    _run(
        [
            pg_restore,
            "--single-transaction",
            "--exit-on-error",
            "--no-owner",
            "--no-acl",
            f"--dbname={uri}",
            str(archive),
        ],
        env,
        "pg_restore (the database's tables were dropped first: it is now empty)",
    )
    app_role = make_url(app_url).username
    with _connect(url) as connection:
        if app_role and app_role != make_url(url).username:
            _grant(url, app_role)
        return contents(connection)


def _grant(url: str, role: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            rls.grant_app_role(connection, role)
    except ValueError as exc:
        raise BackupError(
            f"The tables were restored, but the app role could not be granted its rights: {exc} "
            f"Run `coterie db grant-app-role {role}` once it exists."
        ) from exc
    finally:
        engine.dispose()
