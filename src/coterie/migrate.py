"""Schema migrations: run Alembic programmatically and tell whether a database is current."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import ResolutionError
from alembic.util import CommandError
from sqlalchemy import Engine

from coterie.db import make_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class DatabaseNotMigratedError(RuntimeError):
    """The database schema is not at the code's head revision."""


class RevisionError(ValueError):
    """A requested revision that does not exist, or that an upgrade cannot reach."""


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> str | None:
    """Migrate the database up to `revision` (default the newest); the revision it is at after.

    Raises RevisionError, before touching anything, for an unknown revision or one the database
    is already past (an upgrade never goes back).
    """
    target = _known_revision(revision)
    engine = make_engine(database_url)
    try:
        current = current_revision(engine)
        if current is not None and _order(current) > _order(target):
            raise RevisionError(
                f"The database is at revision {current}, past {target}: an upgrade never goes "
                "back, so nothing was changed."
            )
        command.upgrade(alembic_config(database_url), target)
        return current_revision(engine)
    finally:
        engine.dispose()


def _scripts() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS_DIR))


def _known_revision(revision: str) -> str:
    """The full id of `revision` ("head", an id or an unambiguous prefix of one)."""
    unknown = RevisionError(
        f"There is no revision {revision!r}. `coterie db current` shows the database's "
        "revision and the newest one."
    )
    try:
        script = _scripts().get_revision(revision)
    except (CommandError, ResolutionError) as exc:
        raise unknown from exc
    if script is None:  # "base": nothing to upgrade to
        raise unknown
    return script.revision


def _order(revision: str) -> int:
    """How far `revision` is from the first one (the chain is linear)."""
    chain = [script.revision for script in _scripts().walk_revisions()]  # newest first
    return len(chain) - chain.index(revision)


def head_revision() -> str | None:
    return _scripts().get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def ensure_migrated(engine: Engine) -> None:
    """Refuse to serve a database whose schema is behind (or ahead of) this code."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        where = engine.url.render_as_string(hide_password=True)
        state = "is empty (never migrated)" if current is None else f"is at revision {current}"
        raise DatabaseNotMigratedError(
            f"The database {where} {state}, but this version of Coterie needs revision {head}. "
            "Run `coterie db upgrade` first."
        )
