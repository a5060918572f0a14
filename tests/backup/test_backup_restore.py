"""`coterie backup` and `coterie restore` on real SQLite and PostgreSQL databases.

The round trip loads the demo network, backs it up, restores it into a new, empty database and
compares every table (each of Base.metadata's, and alembic_version): the same rows, the same
checksum. The refusals leave the target as it was. PostgreSQL runs pg_dump and pg_restore
(subprocesses: marked slow).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psycopg
import pytest
from click.testing import Result
from sqlalchemy import make_url, text
from typer.testing import CliRunner

from coterie import migrate
from coterie.backup.archive import coterie_tables
from coterie.cli import app as cli_app
from coterie.config import Settings, get_settings
from coterie.db import make_engine, make_session_factory, session_scope
from coterie.demo import network as demo_network
from coterie.models import Company
from tests.fixtures.databases import KINDS, PG_ADMIN_URL, fresh_database

HEAD = migrate.head_revision()
KIND_PARAMS = [
    pytest.param(kind, marks=[pytest.mark.slow] if kind == "postgresql" else []) for kind in KINDS
]


def flat(text_: str) -> str:
    return " ".join(text_.split())


def coterie(
    args: list[str], database_url: str, data_dir: Path, *, app_url: str | None = None
) -> Result:
    """`coterie ARGS` in-process, configured like a shell: the owner migrates (and backs up),
    the app connects as `app_url` (default the owner too)."""
    env = {
        "COTERIE_DATABASE_URL": app_url or database_url,
        "COTERIE_MIGRATION_DATABASE_URL": database_url,
        "COTERIE_DATA_DIR": str(data_dir),
        "COTERIE_ENV": "test",
        "COTERIE_SECRET_KEY": "backup-test-" + secrets.token_hex(16),
        "COLUMNS": "200",
    }
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli_app, args, env=env, catch_exceptions=False)
    finally:
        get_settings.cache_clear()


def table_digests(url: str) -> dict[str, tuple[int, str]]:
    """Table -> (rows, SHA-256 of its rows in a canonical order), read as the owner."""
    engine = make_engine(url)
    found: dict[str, tuple[int, str]] = {}
    try:
        with engine.connect() as connection:
            for table in coterie_tables():
                rows = connection.execute(text(f"SELECT * FROM {table}")).all()  # noqa: S608
                lines = sorted(repr(tuple(row)) for row in rows)
                found[table] = (len(rows), hashlib.sha256("\n".join(lines).encode()).hexdigest())
    finally:
        engine.dispose()
    return found


def load_demo(url: str, data_dir: Path) -> None:
    migrate.upgrade(url)
    demo_network.load(Settings(database_url=url, data_dir=data_dir, env="test"))


def add_company(url: str, name: str) -> None:
    engine = make_engine(url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            session.add(Company(name=name, name_key=name.lower(), domain=f"{name.lower()}.example"))
    finally:
        engine.dispose()


@contextmanager
def databases(kind: str, directory: Path, count: int) -> Iterator[list[str]]:
    with ExitStack() as stack:
        yield [
            stack.enter_context(fresh_database(kind, directory, f"db{i}.sqlite3"))
            for i in range(count)
        ]


@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_backup_then_restore_into_an_empty_database_gives_identical_tables(
    kind: str, tmp_path: Path
) -> None:
    with databases(kind, tmp_path, 2) as (source, target):
        load_demo(source, tmp_path)
        before = table_digests(source)

        made = coterie(["backup"], source, tmp_path)
        assert made.exit_code == 0, made.output
        archives = list((tmp_path / "backups").iterdir())
        assert len(archives) == 1
        archive = archives[0]
        suffix = ".sqlite3" if kind == "sqlite" else ".pgdump"
        assert archive.name.startswith("coterie-")
        assert archive.name.endswith(suffix)
        printed = flat(made.output)
        total = sum(rows for rows, _ in before.values())
        assert f"Backed up {len(before)} tables, {total:,} rows (schema revision {HEAD})" in printed
        assert str(archive) in made.output.replace("\n", "")
        assert "companies 13" in printed  # per table, as counted in the archive's snapshot

        restored = coterie(["restore", str(archive)], target, tmp_path)
        assert restored.exit_code == 0, restored.output
        assert f"Restored {len(before)} tables, {total:,} rows" in flat(restored.output)

        after = table_digests(target)
        assert after == before
        assert before["records"][0] > 0
        assert before["comments"][0] > 0


@contextmanager
def login_role() -> Iterator[str]:
    role = f"coterie_restore_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
    try:
        yield role
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.mark.slow
@pytest.mark.skipif("postgresql" not in KINDS, reason="PostgreSQL runs are off")
def test_a_postgresql_restore_lets_the_app_role_in_and_row_level_security_still_applies(
    tmp_path: Path,
) -> None:
    with login_role() as role, databases("postgresql", tmp_path, 2) as (source, target):
        load_demo(source, tmp_path)
        archive = tmp_path / "demo.pgdump"
        assert coterie(["backup", str(archive)], source, tmp_path).exit_code == 0
        app_url = make_url(target).set(username=role).render_as_string(hide_password=False)

        restored = coterie(["restore", str(archive)], target, tmp_path, app_url=app_url)
        assert restored.exit_code == 0, restored.output

        engine = make_engine(app_url)
        try:
            with engine.connect() as connection:
                # the app role reads the public tables, and RLS hides shared records from it
                # while no company is bound
                assert connection.scalar(text("SELECT count(*) FROM companies")) == 13
                assert connection.scalar(text("SELECT count(*) FROM records")) == 0
        finally:
            engine.dispose()
            with psycopg.connect(target, autocommit=True) as conn:
                conn.execute(f'DROP OWNED BY "{role}"')


@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_restore_refuses_a_database_with_data_unless_forced(kind: str, tmp_path: Path) -> None:
    with databases(kind, tmp_path, 2) as (source, target):
        load_demo(source, tmp_path)
        archive = tmp_path / f"demo.{kind}"
        assert coterie(["backup", str(archive)], source, tmp_path).exit_code == 0
        migrate.upgrade(target)
        add_company(target, "Keepme")

        refused = coterie(["restore", str(archive)], target, tmp_path)
        assert refused.exit_code == 1
        message = flat(refused.output)
        assert "The database already holds data" in message
        assert "--force" in message
        assert "nothing was changed" in message
        assert table_digests(target)["companies"][0] == 1

        forced = coterie(["restore", "--force", str(archive)], target, tmp_path)
        assert forced.exit_code == 0, forced.output
        assert table_digests(target) == table_digests(source)


def test_restore_refuses_a_missing_file_and_a_file_that_is_no_archive(tmp_path: Path) -> None:
    with databases("sqlite", tmp_path, 1) as (target,):
        missing = coterie(["restore", str(tmp_path / "nope.sqlite3")], target, tmp_path)
        assert missing.exit_code == 1
        assert f"There is no file {tmp_path / 'nope.sqlite3'}." in flat(missing.output)

        notes = tmp_path / "notes.txt"
        notes.write_text("not a backup")
        foreign = coterie(["restore", str(notes)], target, tmp_path)
        assert foreign.exit_code == 1
        assert "is not a Coterie backup" in flat(foreign.output)
        assert not Path(make_url(target).database or "").exists()  # nothing was created


def test_restore_refuses_a_damaged_sqlite_archive(tmp_path: Path) -> None:
    with databases("sqlite", tmp_path, 2) as (source, target):
        load_demo(source, tmp_path)
        archive = tmp_path / "demo.sqlite3"
        assert coterie(["backup", str(archive)], source, tmp_path).exit_code == 0
        data = bytearray(archive.read_bytes())
        for offset in range(4096 * 3, len(data), 4096):  # scribble over every page's header
            data[offset : offset + 16] = b"\xff" * 16
        archive.write_bytes(bytes(data))

        refused = coterie(["restore", str(archive)], target, tmp_path)
        assert refused.exit_code == 1
        assert f"{archive} is damaged" in flat(refused.output)
        assert "nothing was changed" in flat(refused.output)
        assert not Path(make_url(target).database or "").exists()


def test_restore_refuses_an_archive_from_a_newer_version(tmp_path: Path) -> None:
    with databases("sqlite", tmp_path, 2) as (source, target):
        migrate.upgrade(source)
        archive = tmp_path / "newer.sqlite3"
        assert coterie(["backup", str(archive)], source, tmp_path).exit_code == 0
        with sqlite3.connect(archive) as connection:
            connection.execute("UPDATE alembic_version SET version_num = '9999'")
        connection.close()

        refused = coterie(["restore", str(archive)], target, tmp_path)
        assert refused.exit_code == 1
        message = flat(refused.output)
        assert "is at schema revision 9999, which this version of Coterie does not know" in message
        assert "nothing was changed" in message


def test_an_archive_from_an_older_version_is_restored_then_migrated(tmp_path: Path) -> None:
    with databases("sqlite", tmp_path, 2) as (source, target):
        migrate.upgrade(source, "0012")
        add_company(source, "Oldtimer")
        archive = tmp_path / "older.sqlite3"
        assert coterie(["backup", str(archive)], source, tmp_path).exit_code == 0

        restored = coterie(["restore", str(archive)], target, tmp_path)
        assert restored.exit_code == 0, restored.output
        assert f"migrated from revision 0012 to {HEAD}" in flat(restored.output)
        engine = make_engine(target)
        try:
            assert migrate.current_revision(engine) == HEAD
        finally:
            engine.dispose()
        assert table_digests(target)["companies"][0] == 1


@pytest.mark.slow
@pytest.mark.skipif("postgresql" not in KINDS, reason="PostgreSQL runs are off")
def test_an_archive_restores_only_into_its_own_kind_of_database(tmp_path: Path) -> None:
    with databases("sqlite", tmp_path, 1) as (lite,), databases("postgresql", tmp_path, 1) as (pg,):
        migrate.upgrade(lite)
        migrate.upgrade(pg)
        sqlite_archive = tmp_path / "lite.sqlite3"
        pg_archive = tmp_path / "pg.pgdump"
        assert coterie(["backup", str(sqlite_archive)], lite, tmp_path).exit_code == 0
        assert coterie(["backup", str(pg_archive)], pg, tmp_path).exit_code == 0

        into_sqlite = coterie(["restore", "--force", str(pg_archive)], lite, tmp_path)
        assert into_sqlite.exit_code == 1
        assert "is a PostgreSQL archive" in flat(into_sqlite.output)
        assert "the database configured is sqlite" in flat(into_sqlite.output)

        into_pg = coterie(["restore", "--force", str(sqlite_archive)], pg, tmp_path)
        assert into_pg.exit_code == 1
        assert "is a SQLite database file" in flat(into_pg.output)
        assert "the database configured is postgresql" in flat(into_pg.output)


@pytest.mark.skipif("postgresql" not in KINDS, reason="PostgreSQL runs are off")
def test_a_postgresql_backup_without_pg_dump_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with databases("postgresql", tmp_path, 1) as (pg,):
        monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump there
        refused = coterie(["backup"], pg, tmp_path)
        assert refused.exit_code == 1
        assert "pg_dump is not on PATH: install PostgreSQL's client tools" in flat(refused.output)
        assert not (tmp_path / "backups").exists() or not any((tmp_path / "backups").iterdir())


def test_a_backup_never_overwrites_a_file(tmp_path: Path) -> None:
    with databases("sqlite", tmp_path, 1) as (source,):
        migrate.upgrade(source)
        existing = tmp_path / "keep.sqlite3"
        existing.write_bytes(b"precious")
        refused = coterie(["backup", str(existing)], source, tmp_path)
        assert refused.exit_code == 1
        assert "already exists: a backup never overwrites a file" in flat(refused.output)
        assert existing.read_bytes() == b"precious"
