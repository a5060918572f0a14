"""Where a benchmark data set lives: a dedicated database per scale, given the app's schema by
`coterie.migrate.upgrade`, bulk-loaded once, and reused while it holds the same scale, seed,
generator version and schema revision (a marker row in `bench_dataset` says so).

PostgreSQL: one transaction drops the foreign keys, the primary keys of the four record tables
and every other index of the loaded tables, truncates them (so COPY can FREEZE: rows are visible
to index-only scans without waiting for VACUUM), COPYs every row, and builds keys and indexes
back; then VACUUM ANALYZE. SQLite: executemany in one transaction, then ANALYZE.

Only a database (or SQLite file) whose name starts with `coterie_bench` is ever dropped and
created again; any other database must be empty or already hold a matching data set.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import psycopg
from psycopg import sql
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from sqlalchemy import (
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    Table,
    Text,
    inspect,
    make_url,
    select,
)
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

from bench.dataset import (
    COLUMNS,
    GENERATOR_VERSION,
    JSON_COLUMNS,
    RECORD_TABLES,
    SEARCH_TABLE,
    TABLES,
    Batch,
    Generator,
    Landmarks,
)
from bench.scales import Scale
from coterie import migrate
from coterie.authz import guard, rls
from coterie.db import Base, make_engine, make_session_factory

BENCH_PREFIX = "coterie_bench"
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432"
URL_VARIABLE = "COTERIE_BENCH_DATABASE_URL"

_marker_metadata = MetaData()
MARKER = Table(
    "bench_dataset",
    _marker_metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("signature", Text, nullable=False),
    Column("landmarks", Text, nullable=False),
    Column("generated_at", Text, nullable=False),
    Column("seconds", Float, nullable=False),
)


class BenchDatabaseError(RuntimeError):
    """The bench database cannot be used (not empty, unreachable, foreign data)."""


@dataclass(frozen=True)
class Prepared:
    url: str
    landmarks: Landmarks
    generated: bool  # False: an existing data set was reused
    generation_seconds: float  # of this run, or of the run that generated the reused set
    generated_at: str


def default_url(scale: str) -> str:
    """`COTERIE_BENCH_DATABASE_URL` (`{scale}` is replaced), else coterie_bench_<scale> on the
    local PostgreSQL server."""
    configured = os.environ.get(URL_VARIABLE)
    if configured:
        return configured.replace("{scale}", scale)
    return f"{DEFAULT_SERVER}/{BENCH_PREFIX}_{scale}"


def display_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def signature(scale: Scale, seed: int) -> dict[str, Any]:
    return {
        "scale": scale.name,
        "seed": seed,
        "generator": GENERATOR_VERSION,
        "schema": migrate.head_revision(),
    }


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions as the app makes them: the fail-closed guard and the RLS binding installed."""
    factory = make_session_factory(engine)
    guard.install(factory)
    rls.install(factory)
    return factory


# --- the database itself ----------------------------------------------------------------------


def _is_postgresql(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def _libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _database_name(url: str) -> str:
    parsed = make_url(url)
    if _is_postgresql(url):
        return parsed.database or ""
    return Path(parsed.database or "").name


def _may_recreate(url: str) -> bool:
    return _database_name(url).startswith(BENCH_PREFIX)


def _ensure_exists(url: str) -> None:
    parsed = make_url(url)
    if not _is_postgresql(url):
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        return
    name = parsed.database or ""
    try:
        with psycopg.connect(_libpq(parsed.set(database="postgres")), autocommit=True) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if found is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as exc:
        raise BenchDatabaseError(f"Cannot reach PostgreSQL for {display_url(url)}: {exc}") from exc


def _recreate(url: str) -> None:
    parsed = make_url(url)
    if _is_postgresql(url):
        name = parsed.database or ""
        with psycopg.connect(_libpq(parsed.set(database="postgres")), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return
    path = Path(parsed.database or "")
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def drop_database(url: str) -> None:
    """Drop a bench database (tests clean up with this); refuses any other name."""
    if not _may_recreate(url):
        raise BenchDatabaseError(f"Refusing to drop {display_url(url)}: not a bench database.")
    parsed = make_url(url)
    if _is_postgresql(url):
        with psycopg.connect(_libpq(parsed.set(database="postgres")), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(parsed.database or "")
                )
            )
        return
    _recreate(url)


def read_marker(engine: Engine) -> dict[str, Any] | None:
    if not inspect(engine).has_table(MARKER.name):
        return None
    with engine.connect() as connection:
        row = connection.execute(select(MARKER).where(MARKER.c.id == 1)).mappings().first()
    return dict(row) if row is not None else None


def prepare(url: str, scale: Scale, seed: int, *, regenerate: bool, console: Console) -> Prepared:
    """The data set of `scale` and `seed` in the database at `url`: reused when its marker
    matches, otherwise generated (after dropping and creating a bench database again)."""
    _ensure_exists(url)
    wanted = signature(scale, seed)
    engine = make_engine(url)
    try:
        marker = read_marker(engine)
        if marker is not None and not regenerate and json.loads(marker["signature"]) == wanted:
            return Prepared(
                url=url,
                landmarks=Landmarks.from_json(json.loads(marker["landmarks"])),
                generated=False,
                generation_seconds=float(marker["seconds"]),
                generated_at=str(marker["generated_at"]),
            )
        has_tables = bool(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    if has_tables:
        if not _may_recreate(url):
            raise BenchDatabaseError(
                f"{display_url(url)} already holds other data. Use a database whose name starts "
                f"with {BENCH_PREFIX} (it is dropped and created again when its data set does "
                "not match), or an empty one."
            )
        _recreate(url)
    started = time.perf_counter()
    console.print(f"Generating the {scale.name} data set (seed {seed}) in {display_url(url)}")
    migrate.upgrade(url)
    generator = Generator(scale, seed)
    rss_before = _rss_bytes()
    with progress_bar(console) as progress:
        task = progress.add_task("records", total=scale.records + scale.leads + scale.plans)

        def advance(count: int) -> None:
            progress.advance(task, count)

        if _is_postgresql(url):
            _load_postgresql(url, generator.batches(advance), progress)
        else:
            _load_sqlite(url, generator.batches(advance))
    seconds = time.perf_counter() - started
    landmarks = generator.landmarks()
    landmarks.memory = {
        "rss_before_mb": round(rss_before / 2**20, 1),
        "peak_rss_mb": round(_peak_rss_bytes() / 2**20, 1),
    }
    generated_at = datetime.now(UTC).isoformat(timespec="seconds")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            MARKER.create(connection, checkfirst=True)
            connection.execute(MARKER.delete())
            connection.execute(
                MARKER.insert().values(
                    id=1,
                    signature=json.dumps(wanted),
                    landmarks=json.dumps(landmarks.to_json()),
                    generated_at=generated_at,
                    seconds=seconds,
                )
            )
    finally:
        engine.dispose()
    console.print(
        f"Generated {sum(landmarks.rows.values()):,} rows in {seconds:.1f} s "
        f"({', '.join(f'{t} {n:,}' for t, n in landmarks.rows.items())}); peak resident memory "
        f"{landmarks.memory['peak_rss_mb']:,.0f} MB ({landmarks.memory['rss_before_mb']:,.0f} MB "
        "before)."
    )
    return Prepared(url, landmarks, True, seconds, generated_at)


def _rss_bytes() -> int:
    """This process's resident memory now."""
    return int(psutil.Process().memory_info().rss)


def _peak_rss_bytes() -> int:
    """This process's peak resident memory so far (Linux reports kilobytes, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


@contextmanager
def progress_bar(console: Console) -> Iterator[Progress]:
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as progress:
        yield progress


# --- loading ----------------------------------------------------------------------------------


def _load_sqlite(url: str, batches: Iterator[Batch]) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for batch in batches:
                table = Base.metadata.tables[batch.table]
                rows = [dict(zip(batch.columns, row, strict=True)) for row in batch.rows]
                if rows:
                    connection.execute(table.insert(), rows)
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()


STEP_SECONDS: dict[str, float] = {}  # the last load's key and index steps (diagnostics)


@dataclass(frozen=True)
class _Rebuild:
    label: str
    statement: sql.Composed | sql.SQL


def _drop_keys_and_indexes(conn: psycopg.Connection[Any]) -> list[_Rebuild]:
    """Drop what slows a bulk load down; return the statements that build it all back (primary
    keys, then indexes, then foreign keys, which are validated when added)."""
    tables = list(TABLES)
    foreign = conn.execute(
        "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
        "FROM pg_constraint c WHERE c.contype = 'f' "
        "AND (c.conrelid::regclass::text = ANY(%s) OR c.confrelid::regclass::text = ANY(%s)) "
        "ORDER BY 1, 2",
        (tables, tables),
    ).fetchall()
    primary = conn.execute(
        "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
        "FROM pg_constraint c WHERE c.contype = 'p' AND c.conrelid::regclass::text = ANY(%s) "
        "ORDER BY 1",
        (list(RECORD_TABLES),),
    ).fetchall()
    indexes = conn.execute(
        "SELECT t.relname, x.relname, pg_get_indexdef(i.indexrelid) "
        "FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_class x "
        "ON x.oid = i.indexrelid WHERE t.relname = ANY(%s) "
        "AND t.relnamespace = current_schema()::regnamespace AND NOT EXISTS ("
        "SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid "
        "AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x')) ORDER BY 1, 2",
        (tables,),
    ).fetchall()
    rebuild: list[_Rebuild] = []
    for table, name, _definition in foreign:
        conn.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.Identifier(table), sql.Identifier(name)
            )
        )
    for table, name, definition in primary:
        conn.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.Identifier(table), sql.Identifier(name)
            )
        )
        rebuild.append(_alter_add(table, name, definition))
    for _table, name, definition in indexes:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        rebuild.append(_Rebuild(name, sql.SQL(definition)))  # pg_get_indexdef: trusted DDL
    rebuild.extend(_alter_add(table, name, definition) for table, name, definition in foreign)
    return rebuild


def _alter_add(table: str, name: str, definition: str) -> _Rebuild:
    statement = sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
        sql.Identifier(table), sql.Identifier(name), sql.SQL(definition)
    )
    return _Rebuild(name, statement)


def _wire_types(conn: psycopg.Connection[Any], table: str, columns: tuple[str, ...]) -> list[str]:
    """The binary COPY types of `columns`: varchar and json travel as text (same wire format)."""
    rows = conn.execute(
        "SELECT a.attname, t.typname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
        "WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped",
        (table,),
    ).fetchall()
    names: dict[str, str] = dict(rows)
    as_text = {"varchar", "bpchar", "json"}
    return ["text" if names[c] in as_text else names[c] for c in columns]


def _copy(conn: psycopg.Connection[Any], batch: Batch, types: list[str], freeze: bool) -> None:
    """COPY one batch in binary format (about half the server's work of text format)."""
    if not batch.rows:
        return
    json_at = [i for i, name in enumerate(batch.columns) if name in JSON_COLUMNS]
    dumped: dict[int, str] = {}

    def as_text(value: Any) -> str:
        key = id(value)
        if key not in dumped:
            dumped[key] = json.dumps(value)
        return dumped[key]

    options = "FORMAT BINARY, FREEZE" if freeze else "FORMAT BINARY"
    statement = sql.SQL("COPY {} ({}) FROM STDIN ({})").format(
        sql.Identifier(batch.table),
        sql.SQL(", ").join(sql.Identifier(c) for c in batch.columns),
        sql.SQL(options),
    )
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        copy.set_types(types)
        if not json_at:
            for row in batch.rows:
                copy.write_row(row)
            return
        for row in batch.rows:
            values = list(row)
            for i in json_at:
                values[i] = as_text(values[i])
            copy.write_row(values)


def _load_postgresql(url: str, batches: Iterator[Batch], progress: Progress) -> None:
    with psycopg.connect(_libpq(make_url(url))) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("SET synchronous_commit = off")
        rebuild = _drop_keys_and_indexes(conn)
        conn.execute(
            sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(sql.Identifier(t) for t in TABLES))
        )
        types = {table: _wire_types(conn, table, COLUMNS[table]) for table in TABLES}
        for batch in batches:
            _copy(conn, batch, types[batch.table], freeze=True)
        # the index's ids were given by the generator: new rows of the app must come after them
        conn.execute(
            sql.SQL(
                "SELECT setval(pg_get_serial_sequence({table}, 'id'), "
                "coalesce((SELECT max(id) FROM {name}), 0) + 1, false)"
            ).format(table=sql.Literal(SEARCH_TABLE), name=sql.Identifier(SEARCH_TABLE))
        )
        task = progress.add_task("keys and indexes", total=len(rebuild))
        for step in rebuild:
            progress.update(task, description=f"keys and indexes: {step.label}")
            began = time.perf_counter()
            conn.execute(step.statement)
            STEP_SECONDS[step.label] = time.perf_counter() - began
            progress.advance(task)
        progress.update(task, description="keys and indexes")
        conn.commit()
    with psycopg.connect(_libpq(make_url(url)), autocommit=True) as conn:
        task = progress.add_task("vacuum analyze", total=len(TABLES))
        for table in TABLES:
            conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))
            progress.advance(task)
