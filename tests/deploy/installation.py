"""A throwaway installation laid out like deploy/ expects: /opt/coterie is this repository,
/etc/coterie and /var/lib/coterie are temporary directories, and PostgreSQL gets a new
database owned by a new owner role plus a new app role (LOGIN, trust auth), all dropped after.

The environment file is deploy/coterie.env.example with only the values a test must change
(the database, the port, the queue, the SMTP server, the process counts); the secrets are
files in /etc/coterie/credentials/, as the units' LoadCredential= lines expect. The queue is on
the tests' Redis (COTERIE_TEST_REDIS_URL) under a name of its own, its keys deleted afterwards.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import redis
from sqlalchemy import make_url

from tests.fixtures.databases import PG_ADMIN_URL, require_pg
from tests.fixtures.worker import REDIS_URL, require_redis

from .units import DEPLOY, REPO, Layout, read_env_file, write_env_file


@dataclass(frozen=True)
class Installation:
    layout: Layout
    env: dict[str, str]  # the environment file as written
    data_dir: Path
    owner_url: str
    logs: Path


@contextmanager
def postgres_roles() -> Iterator[tuple[str, str, str]]:
    """(owner role, app role, database): the database owned by the owner role."""
    require_pg()
    suffix = secrets.token_hex(4)
    owner, app, database = (f"coterie_deploy_{kind}_{suffix}" for kind in ("owner", "app", "db"))
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{owner}" LOGIN')
        admin.execute(f'CREATE ROLE "{app}" LOGIN')
        admin.execute(f'CREATE DATABASE "{database}" OWNER "{owner}"')
        try:
            yield owner, app, database
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            admin.execute(f'DROP ROLE IF EXISTS "{app}"')
            admin.execute(f'DROP ROLE IF EXISTS "{owner}"')


@contextmanager
def redis_queue() -> Iterator[str]:
    """A queue name nobody else uses on the tests' Redis; its keys deleted afterwards."""
    require_redis()
    name = f"deploytest{secrets.token_hex(4)}"  # Huey keeps only [a-z0-9] of it in its keys
    try:
        yield name
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(match=f"*{name}*"):
            client.delete(key)
        client.close()


@contextmanager
def installation(root: Path, overrides: dict[str, str]) -> Iterator[Installation]:
    etc, data_dir, logs = root / "etc-coterie", root / "var-lib-coterie", root / "logs"
    for directory in (etc / "credentials", data_dir, logs):
        directory.mkdir(parents=True)
    layout = Layout({"/opt/coterie": REPO, "/etc/coterie": etc, "/var/lib/coterie": data_dir})
    example = layout.map((DEPLOY / "coterie.env.example").read_text())
    with postgres_roles() as (owner, app, database), redis_queue() as queue:
        server = make_url(PG_ADMIN_URL)
        owner_url = server.set(username=owner, database=database).render_as_string(False)
        app_url = server.set(username=app, database=database).render_as_string(False)
        credentials = {
            "secret_key": secrets.token_urlsafe(48),
            "smtp_password": "",
            "migration_database_url": owner_url,
        }
        for name, value in credentials.items():
            (etc / "credentials" / name).write_text(value + "\n")
        values = {
            "COTERIE_DATABASE_URL": app_url,
            "APP_ROLE": app,
            "COTERIE_REDIS_URL": REDIS_URL,
            "COTERIE_JOBS_QUEUE_NAME": queue,
            **overrides,
        }
        write_env_file(etc / "coterie.env", example, values)
        yield Installation(
            layout=layout,
            env=read_env_file((etc / "coterie.env").read_text()),
            data_dir=data_dir,
            owner_url=owner_url,
            logs=logs,
        )
