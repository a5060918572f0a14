"""Database plumbing: the declarative base, portable column types, engines and sessions.

SQLite transactions are begun by us, not by the sqlite3 module (which begins them only before
the first write, and never for savepoints' sake): a plain BEGIN for transactions that only
read, and BEGIN IMMEDIATE for those that will write (engines from `for_writes`). A writer then
takes SQLite's write lock up front and waits for it (the busy timeout, `?timeout=` seconds in
the URL, default 5), instead of reading first and failing with "database is locked" when
another writer committed in between (SQLITE_BUSY_SNAPSHOT, which no busy timeout retries).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uuid_utils.compat as uuid_compat
from sqlalchemy import Connection, DateTime, Engine, MetaData, create_engine, event, make_url
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def new_id() -> uuid.UUID:
    """A time-ordered UUIDv7: unique, unguessable enough for ids, and index-friendly."""
    return uuid_compat.uuid7()


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as UTC and always returned timezone-aware, on SQLite and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


WRITES_OPTION = "coterie_writes"
PG_CONNECT_TIMEOUT_SECONDS = 10


def _sqlite_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    dbapi_connection.isolation_level = None  # the sqlite3 module begins nothing: see _sqlite_begin
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    writes = connection.get_execution_options().get(WRITES_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def for_writes(engine: Engine) -> Engine:
    """`engine` (same pool) for transactions that will write: on SQLite they begin IMMEDIATE."""
    return engine.execution_options(**{WRITES_OPTION: True})


def make_engine(url: str) -> Engine:
    """An engine for `url`, with SQLite tuned for a multi-threaded web server."""
    if url.startswith("sqlite"):
        database = url.split("///", 1)[-1].split("?", 1)[0]
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # JIT compilation costs up to a second on the join-heavy queries of the gate and reports
    # (measured: 1.1 s of JIT for a 0.3 s grouped report) and never pays off at these sizes
    connect_args: dict[str, Any] = {"options": "-c jit=off"}
    if "connect_timeout" not in make_url(url).query:
        # a server that stopped answering (not refusing) fails a request in seconds, with 503,
        # instead of holding it for the operating system's TCP timeout (minutes)
        connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_SECONDS
    return create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=10, connect_args=connect_args
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def writing_session(factory: sessionmaker[Session]) -> Session:
    """A session from `factory` whose transactions will write (see `for_writes`)."""
    bind: Engine = factory.kw["bind"]
    return factory(bind=for_writes(bind))


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work for CLI and jobs: commit on success, roll back on error."""
    session = writing_session(factory)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
