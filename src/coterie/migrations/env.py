"""Alembic environment: one migration chain for SQLite and PostgreSQL (batch mode on SQLite)."""

from __future__ import annotations

from alembic import context

import coterie.models  # noqa: F401  (registers every table on Base.metadata)
from coterie.db import Base, make_engine
from coterie.models.search import autogenerate_include_name, autogenerate_include_object

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        include_name=autogenerate_include_name,  # search objects made by migration 0004 only
        include_object=autogenerate_include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(
            connection=connectable,
            target_metadata=target_metadata,
            render_as_batch=True,
            include_name=autogenerate_include_name,  # search objects made by migration 0004 only
            include_object=autogenerate_include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            include_name=autogenerate_include_name,  # search objects made by migration 0004 only
            include_object=autogenerate_include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
