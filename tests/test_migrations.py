"""The migration chain builds exactly the models' schema, on SQLite and PostgreSQL, and unwinds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

import coterie.models  # noqa: F401  (registers every table)
from coterie import migrate
from coterie.app import create_app
from coterie.db import Base, make_engine
from coterie.models.search import autogenerate_include_name, autogenerate_include_object
from tests.conftest import make_settings
from tests.fixtures.databases import KINDS, fresh_database


@pytest.fixture(params=KINDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of a database that exists but has never been migrated."""
    with fresh_database(request.param, tmp_path, "fresh.sqlite3") as url:
        yield url


def schema_differences(engine: Engine) -> list[object]:
    """What `alembic revision --autogenerate` would write, with the filters migrations/env.py
    uses for the engine-specific search objects."""
    options = {
        "include_name": autogenerate_include_name,
        "include_object": autogenerate_include_object,
    }
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=options)
        return list(compare_metadata(context, Base.metadata))


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_upgrade_matches_the_models_and_every_revision_steps_down_and_up(
    empty_database: str,
) -> None:
    config = migrate.alembic_config(empty_database)
    engine = make_engine(empty_database)
    try:
        migrate.upgrade(empty_database)
        head = migrate.head_revision()
        assert migrate.current_revision(engine) == head
        assert set(Base.metadata.tables) <= tables(engine)
        assert schema_differences(engine) == []

        while migrate.current_revision(engine) is not None:  # each downgrade works on its own
            command.downgrade(config, "-1")
        assert tables(engine) - {"alembic_version"} == set()

        while migrate.current_revision(engine) != head:  # and the downgrades left nothing behind
            command.upgrade(config, "+1")
        assert schema_differences(engine) == []
    finally:
        engine.dispose()


def test_the_app_refuses_an_unmigrated_database(empty_database: str, tmp_path: Path) -> None:
    settings = make_settings(empty_database, tmp_path, smtp_port=9)

    with pytest.raises(migrate.DatabaseNotMigratedError) as raised:
        create_app(settings)

    message = str(raised.value)
    assert "coterie db upgrade" in message
    assert "never migrated" in message
    assert str(migrate.head_revision()) in message


def test_the_app_refuses_a_database_at_another_revision(
    empty_database: str, tmp_path: Path
) -> None:
    migrate.upgrade(empty_database)
    engine = make_engine(empty_database)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
    finally:
        engine.dispose()
    settings = make_settings(empty_database, tmp_path, smtp_port=9)

    with pytest.raises(migrate.DatabaseNotMigratedError) as raised:
        create_app(settings)

    assert "revision f00d" in str(raised.value)
    assert "coterie db upgrade" in str(raised.value)


def test_the_app_starts_on_a_migrated_database(empty_database: str, tmp_path: Path) -> None:
    migrate.upgrade(empty_database)
    app = create_app(make_settings(empty_database, tmp_path, smtp_port=9))
    try:
        assert migrate.current_revision(app.state.engine) == migrate.head_revision()
    finally:
        app.state.engine.dispose()
